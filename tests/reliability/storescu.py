"""Sending folders with DCMTK storescu and reading back an archive's index and store (reliability tests)."""

from __future__ import annotations

import os
import subprocess
import threading
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import text

from qrscp.index.database import create_engine_for
from qrscp.store.filestore import TEMPORARY_DIRECTORY
from qrscp.testing.dcmtk import dcmtk_env, dcmtk_tool

STORE_RESPONSE_SUCCESS = "Received Store Response (Success)"


@dataclass
class StorescuRun:
    """storescu processes sending directories; counts the instances the server acknowledged."""

    acknowledged: list[str] = field(default_factory=list)  # SOP Instance UIDs (from the file names)
    lock: threading.Lock = field(default_factory=threading.Lock)
    reached: threading.Event = field(default_factory=threading.Event)
    outputs: list[str] = field(default_factory=list)

    def send(self, port: int, ae_title: str, directories: list[Path], *, signal_after: int | None = None) -> list[int]:
        """Run one storescu per directory (concurrent associations); return their exit codes."""
        processes = [
            subprocess.Popen(
                [dcmtk_tool("storescu"), "-v", "-aec", ae_title, "127.0.0.1", str(port), "+sd", str(directory)],
                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=dcmtk_env(),
            )
            for directory in directories
        ]
        readers = [threading.Thread(target=self._read, args=(p, signal_after)) for p in processes]
        for reader in readers:
            reader.start()
        for reader in readers:
            reader.join(timeout=180)
        return [p.wait(timeout=60) for p in processes]

    def _read(self, process: subprocess.Popen, signal_after: int | None) -> None:
        current = None
        lines = []
        for line in process.stdout:
            lines.append(line)
            if "Sending file:" in line:
                # Files are named <index>_<SOP Instance UID>.dcm by the factory.
                current = Path(line.split("Sending file:", 1)[1].strip()).stem.split("_", 1)[1]
            elif STORE_RESPONSE_SUCCESS in line and current is not None:
                with self.lock:
                    self.acknowledged.append(current)
                    if signal_after is not None and len(self.acknowledged) >= signal_after:
                        self.reached.set()
        with self.lock:
            self.outputs.append("".join(lines))


def index_paths(data_dir: Path, database_url: str = "") -> dict[str, str]:
    """SOP Instance UID -> file path, read straight from the index (default: the data dir's SQLite)."""
    engine = create_engine_for(database_url or f"sqlite:///{data_dir / 'index.sqlite'}")
    try:
        with engine.connect() as connection:
            return dict(connection.execute(text("SELECT sop_instance_uid, file_path FROM instance")).all())
    finally:
        engine.dispose()


def store_files(data_dir: Path) -> set[str]:
    root = data_dir / "store"
    return {
        str(p.relative_to(root)) for p in root.rglob("*") if p.is_file() and TEMPORARY_DIRECTORY not in p.parts
    }


def temporaries(data_dir: Path) -> list[str]:
    directory = data_dir / "store" / TEMPORARY_DIRECTORY
    return os.listdir(directory) if directory.exists() else []
