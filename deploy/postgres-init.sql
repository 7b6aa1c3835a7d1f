-- Each service owns its database (docker-compose runs this once, when the volume is new).
CREATE DATABASE ingest;
CREATE DATABASE evaluator;
CREATE DATABASE alerts;
