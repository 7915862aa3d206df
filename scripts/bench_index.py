#!/usr/bin/env python3
"""Index benchmark: C-FIND through QueryService on an index holding a million instance rows.

Synthesises the rows directly (bulk INSERTs, no files) across N patients, each with one study of two
series, in SQLite and, when the PostgreSQL binaries are installed, in a throwaway PostgreSQL cluster;
then times study-level C-FIND by Patient ID (the issue's target: < 50 ms) and a few other typical
queries through ``QueryService.find``, consuming every response identifier.

Usage: python scripts/bench_index.py [--instances 1000000] [--patients 20000] [--queries 50]
       [--no-postgresql] [--postgresql-url URL] [--keep DIR]
"""

from __future__ import annotations

import argparse
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from pydicom.dataset import Dataset
from sqlalchemy import Engine, insert, text

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.append(str(ROOT / "tests" / "index"))  # pgcluster: the throwaway PostgreSQL of the tests

from qrscp.config import Config
from qrscp.index.database import create_engine_for, init_schema, session_factory
from qrscp.index.models import Instance, Patient, Series, Study
from qrscp.services.query import QueryService
from qrscp.uids import (
    CT_IMAGE_STORAGE,
    MR_IMAGE_STORAGE,
    PATIENT_ROOT_FIND,
    STUDY_ROOT_FIND,
)

BATCH = 20_000
SERIES_PER_STUDY = 2


def _uid(*parts: int) -> str:
    return "1.2.826.0.1.3680043.10.543." + ".".join(str(p) for p in parts)


def synthesise(engine: Engine, patients: int, instances: int) -> float:
    """Insert `patients` patients/studies, 2 series each and `instances` instances in all; return seconds."""
    per_series = max(1, instances // (patients * SERIES_PER_STUDY))
    started = time.perf_counter()
    rng = random.Random(157)
    with engine.begin() as connection:
        rows = []
        for p in range(1, patients + 1):
            rows.append({"id": p, "patient_id": f"PID{p:07d}", "patient_name": f"DOE^{p}", "patient_name_ci": f"doe^{p}",
                             "patient_birth_date": f"19{rng.randint(30, 99)}0{rng.randint(1, 9)}1{rng.randint(0, 9)}",
                             "patient_sex": rng.choice("MF")})
        connection.execute(insert(Patient), rows)
        rows = [{"id": p, "patient_fk": p, "study_instance_uid": _uid(p), "study_date": f"20{rng.randint(10, 24)}0{rng.randint(1, 9)}15",
                     "study_time": "101500", "accession_number": f"A{p}", "study_id": str(p), "study_description": "CT/MR"}
                for p in range(1, patients + 1)]
        connection.execute(insert(Study), rows)
        rows = []
        for p in range(1, patients + 1):
            for s in range(SERIES_PER_STUDY):
                rows.append({"id": (p - 1) * SERIES_PER_STUDY + s + 1, "study_fk": p, "series_instance_uid": _uid(p, s + 1),
                                 "modality": ("CT", "MR")[s], "series_number": str(s + 1)})
        connection.execute(insert(Series), rows)
        total_series = patients * SERIES_PER_STUDY
        batch: list[dict] = []
        count = 0
        for series_id in range(1, total_series + 1):
            p, s = divmod(series_id - 1, SERIES_PER_STUDY)
            sop_class = (CT_IMAGE_STORAGE, MR_IMAGE_STORAGE)[s]
            for i in range(1, per_series + 1):
                if count >= instances:
                    break
                count += 1
                batch.append({"series_fk": series_id, "sop_instance_uid": _uid(p + 1, s + 1, i), "sop_class_uid": sop_class,
                                  "instance_number": i, "transfer_syntax_uid": "1.2.840.10008.1.2.1",
                                  "file_path": f"{p + 1}/{s + 1}/{i}.dcm", "file_size": 526_000, "rows": 512, "columns": 512})
                if len(batch) >= BATCH:
                    connection.execute(insert(Instance), batch)
                    batch.clear()
        if batch:
            connection.execute(insert(Instance), batch)
    with engine.connect() as connection:
        connection.execute(text("ANALYZE"))
        connection.commit()
    return time.perf_counter() - started


def _identifier(level: str, **keys) -> Dataset:
    ds = Dataset()
    ds.QueryRetrieveLevel = level
    for keyword, value in keys.items():
        setattr(ds, keyword, value)
    return ds


def time_queries(service: QueryService, make, model: str, count: int) -> tuple[list[float], int]:
    """Milliseconds of `count` C-FINDs (identifier from make(i)), every response consumed."""
    times, matches = [], 0
    for i in range(count):
        identifier = make(i)
        started = time.perf_counter()
        matches += sum(1 for _ in service.find(identifier, information_model=model))
        times.append((time.perf_counter() - started) * 1000)
    return times, matches


def run(name: str, url: str, args) -> list[tuple]:
    engine = create_engine_for(url)
    init_schema(engine)
    seconds = synthesise(engine, args.patients, args.instances)
    with engine.connect() as connection:
        rows = connection.execute(text("SELECT count(*) FROM instance")).scalar()
    print(f"{name}: {rows:,} instance rows synthesised in {seconds:.1f} s", flush=True)
    service = QueryService(Config(), session_factory(engine))
    rng = random.Random(1)
    pick = [rng.randint(1, args.patients) for _ in range(args.queries)]
    study_keys = {"StudyInstanceUID": "", "StudyDate": "", "StudyTime": "", "AccessionNumber": "", "StudyID": "", "StudyDescription": "",
                      "PatientName": "", "PatientBirthDate": "", "ModalitiesInStudy": "", "NumberOfStudyRelatedSeries": "",
                      "NumberOfStudyRelatedInstances": ""}
    cases = [
        ("STUDY by Patient ID (+aggregates)", STUDY_ROOT_FIND,
         lambda i: _identifier("STUDY", PatientID=f"PID{pick[i]:07d}", **study_keys)),
        ("PATIENT by Patient ID (+aggregates)", PATIENT_ROOT_FIND,
         lambda i: _identifier("PATIENT", PatientID=f"PID{pick[i]:07d}", PatientName="", NumberOfPatientRelatedStudies="",
                               NumberOfPatientRelatedInstances="")),
        ("STUDY by Accession Number", STUDY_ROOT_FIND,
         lambda i: _identifier("STUDY", AccessionNumber=f"A{pick[i]}", StudyInstanceUID="", PatientID="")),
        ("STUDY by Patient Name prefix", STUDY_ROOT_FIND,
         lambda i: _identifier("STUDY", PatientName=f"doe^{pick[i]}1*", StudyInstanceUID="")),
        ("IMAGE of one series", STUDY_ROOT_FIND,
         lambda i: _identifier("IMAGE", StudyInstanceUID=_uid(pick[i]), SeriesInstanceUID=_uid(pick[i], 1),
                               SOPInstanceUID="", InstanceNumber="", SOPClassUID="")),
    ]
    results = []
    for label, model, make in cases:
        time_queries(service, make, model, 3)  # warm the caches
        times, matches = time_queries(service, make, model, args.queries)
        times.sort()
        results.append((name, label, statistics.median(times), times[int(len(times) * 0.95) - 1], times[-1], matches / len(times)))
    engine.dispose()
    return results


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--instances", type=int, default=1_000_000)
    parser.add_argument("--patients", type=int, default=20_000)
    parser.add_argument("--queries", type=int, default=50)
    parser.add_argument("--no-postgresql", action="store_true")
    parser.add_argument("--postgresql-url", help="use this database instead of a throwaway cluster")
    parser.add_argument("--keep", help="directory for the SQLite file (default: a temporary one)")
    args = parser.parse_args()
    directory = Path(args.keep or tempfile.mkdtemp(prefix="qrscp-bench-index-"))
    results = run("sqlite", f"sqlite:///{directory / 'index.sqlite'}", args)
    if not args.no_postgresql:
        url = args.postgresql_url
        if url is None:
            import pgcluster

            if pgcluster.available():
                try:
                    url = pgcluster.shared_cluster().create_database()
                except subprocess.CalledProcessError as exc:
                    print(f"postgresql: cannot start a cluster: {exc.stderr}")
            else:
                print("postgresql: binaries not found, skipped")
        if url:
            results += run("postgresql", url, args)
    print()
    print(f"{'database':<11} {'C-FIND':<38} {'median ms':>9} {'p95 ms':>8} {'max ms':>8} {'matches':>8}")
    for name, label, median, p95, worst, matches in results:
        print(f"{name:<11} {label:<38} {median:9.2f} {p95:8.2f} {worst:8.2f} {matches:8.1f}")
    target = [r for r in results if r[1].startswith("STUDY by Patient ID")]
    ok = all(r[3] < 50 for r in target)
    print(f"\ntarget: study-level C-FIND by Patient ID < 50 ms (p95): {'met' if ok else 'NOT met'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
