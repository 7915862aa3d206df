"""Sending stored files: where the dataset starts in a Part 10 file, TCP_NODELAY on sub-associations."""

from __future__ import annotations

from qrscp.testing.factory import make_series


def test_dataset_offset_matches_pydicom(tmp_path):
    from pynetdicom.dsutils import split_dataset

    from qrscp.net.pynetdicom_ext.transfer import dataset_offset
    from qrscp.testing.factory import write_datasets

    [path] = write_datasets(make_series("CT", slices=1, seed=9), tmp_path)
    assert dataset_offset(path) == split_dataset(path)[1]
    no_group_length = tmp_path / "raw.dcm"
    data = path.read_bytes()
    meta_end = dataset_offset(path)
    no_group_length.write_bytes(data[:132] + data[144:meta_end] + data[meta_end:])
    assert dataset_offset(no_group_length) == split_dataset(no_group_length)[1] == meta_end - 12


def test_c_move_sub_association_has_tcp_nodelay(archive, dicom_client, storage_scp, monkeypatch):
    import socket

    from pydicom.dataset import Dataset

    import qrscp.net.sockets as sockets

    seen: list[int] = []
    original = sockets.set_tcp_nodelay

    def recording(assoc):
        original(assoc)
        if assoc.is_requestor:
            seen.append(assoc.dul.socket.socket.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY))

    monkeypatch.setattr(sockets, "set_tcp_nodelay", recording)
    series = make_series("CT", slices=1, seed=12)
    dicom_client.store(series)
    dest = storage_scp("DEST")
    dicom_client.add_peer(archive, dest)
    keys = Dataset()
    keys.QueryRetrieveLevel = "STUDY"
    keys.StudyInstanceUID = series[0].StudyInstanceUID
    assert dicom_client.move(keys, "DEST").code == 0
    assert seen and all(seen)
