-- Databases of infra/compose.yaml: MLflow's backend (the audit log shares it) and Prefect's.
CREATE DATABASE mlflow;
CREATE DATABASE prefect;
