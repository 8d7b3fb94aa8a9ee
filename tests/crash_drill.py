"""Run ``govern`` in this process and SIGKILL it at a named step of a lifecycle action.

Usage: ``python tests/crash_drill.py STEP govern-args...``, STEP one of ``intent`` (the
intent recorded, nothing decided), ``decided`` (the decisions recorded, the registry not yet
set), ``view`` (the registry set, the completion not recorded) or ``registration`` (a
retrain's run open, its version not registered yet). Started as a session leader, the drill
kills its whole process group, as a crash of the host would (a retrain's temporary Prefect
server with it). The recording functions the lifecycle module calls (its decisions, and
the recorder of its intents and completions) are wrapped, so the product carries no hook
for it.
"""

import os
import signal
import sys


def _die() -> None:
    if os.getpgid(0) == os.getpid():
        os.killpg(os.getpid(), signal.SIGKILL)
    os.kill(os.getpid(), signal.SIGKILL)


def _drill(step: str) -> None:
    import governance.lifecycle.actions as lifecycle
    import governance.trust.checkpoints as checkpoints
    from vocabulary import Action

    record_event, record_decisions = checkpoints.record_event, lifecycle.record_decisions

    def event(store, actor, action, *args, **kwargs):
        if step == "view" and action == Action.LIFECYCLE_COMPLETED:
            _die()
        recorded = record_event(store, actor, action, *args, **kwargs)
        if step == "intent" and action == Action.LIFECYCLE_INTENT:
            _die()
        return recorded

    def decisions(*args, **kwargs):
        recorded = record_decisions(*args, **kwargs)
        if step == "decided":
            _die()
        return recorded

    checkpoints.record_event, lifecycle.record_decisions = event, decisions
    if step == "registration":
        import governance.records.candidate as candidate

        candidate.record_training = lambda *args, **kwargs: _die()


if __name__ == "__main__":
    # The script's own directory (tests/) comes first on the path, and its test packages
    # (tests/models, ...) would shadow the product's.
    sys.path.remove(os.path.dirname(os.path.abspath(__file__)))
    _drill(sys.argv[1])
    from cli import app

    app(sys.argv[2:], prog_name="govern")
