"""A 'model' whose predictions are given: the comparison and the gates only call predict."""


class Fixed:
    def __init__(self, values):
        self.values = values

    def predict(self, features):
        return self.values
