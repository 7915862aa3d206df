"""The SQLAlchemy index: patients, studies, series, instances and conversion records."""
