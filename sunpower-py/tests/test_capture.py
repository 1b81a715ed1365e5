"""read_capture: paths, streams, rotated sets, streaming, damaged and unreadable captures."""

from __future__ import annotations

import datetime
import gzip
import io
import json
import logging
import subprocess
from pathlib import Path

import pytest

import sunpower
from conftest import REPO
from pcapwriter import pcap, post

SAMPLE = REPO / "examples" / "sample.pcap"
BODY = (
    b"100\tSPMS\t10\tZT162585000441C1402\t20170107171925\n"
    b"130\t20170107171000\t414051637009125\tAC_Module_Type_C\t18.5466\t0.0417\t245.1503\t0.3643"
    b"\t0.044\t59.0692\t0.7733\t1.25\t59.9772\t0\n"
    b"102\t51oeIKDhOUeah8+9ZCME\n"
)
T0 = 1483809565.0  # 2017-01-07T17:19:25Z


def two_posts() -> bytes:
    return pcap(post(BODY, start=T0, port=40000, segments=3) + post(BODY, start=T0 + 300, port=40001))


def test_a_path_yields_posts_with_their_records(tmp_path: Path) -> None:
    path = tmp_path / "two.pcap"
    path.write_bytes(two_posts())
    posts = list(sunpower.read_capture(path))
    assert len(posts) == 2
    first = posts[0]
    assert first.complete and first.missing_bytes is None
    assert first.channel == "data"
    assert first.target == "/Data/SMS2DataCollector.aspx"
    assert first.body == BODY
    assert first.client == ("192.168.1.50", 40000)
    assert first.server == ("204.194.111.66", 80)
    assert first.input == str(path)
    assert first.captured_at.tzinfo is not None
    assert first.captured_at.utcoffset() == datetime.timedelta(0)
    assert abs(first.captured_at.timestamp() - T0) < 1
    assert [r.record_type for r in first.records] == [100, 130, 102]
    assert all(r.channel == "data" for r in first.records)
    assert first.records[1].lifetime_energy_kwh == 18.5466
    assert first.records[1].to_dict()["channel"] == "data"
    assert first.errors == ()
    assert repr(first).startswith("Post(data, 3 records, captured_at=2017-01-07T17:19:25Z")


def test_paths_streams_and_gzip_decode_alike(tmp_path: Path) -> None:
    data = two_posts()
    plain = tmp_path / "a.pcap"
    plain.write_bytes(data)
    packed = tmp_path / "a.pcap.gz"
    packed.write_bytes(gzip.compress(data))
    expected = [p.records for p in sunpower.read_capture(str(plain))]
    with open(plain, "rb") as f:
        assert [p.records for p in sunpower.read_capture(f)] == expected
    assert [p.records for p in sunpower.read_capture(io.BytesIO(data))] == expected
    assert [p.records for p in sunpower.read_capture(packed)] == expected


def test_a_rotated_set_decodes_a_connection_cut_between_files(tmp_path: Path) -> None:
    frames = post(BODY, start=T0, port=40000, segments=4)
    cut = 5  # SYN, SYN-ACK, ACK and two data segments in the first file
    (tmp_path / "1.pcap").write_bytes(pcap(frames[:cut]))
    (tmp_path / "2.pcap").write_bytes(pcap(frames[cut:]))
    posts = list(sunpower.read_capture(tmp_path / "1.pcap", tmp_path / "2.pcap"))
    assert len(posts) == 1 and posts[0].complete and posts[0].body == BODY


def test_iteration_is_lazy_and_streams(tmp_path: Path) -> None:
    # Big enough to be many times the reader's buffer.
    frames = []
    for i in range(4000):
        frames += post(BODY, start=T0 + 300 * i, port=20000 + i % 40000)
    data = pcap(frames)

    class Counting(io.BytesIO):
        consumed = 0

        def read(self, n: int | None = -1) -> bytes:
            chunk = super().read(n)
            Counting.consumed += len(chunk)
            return chunk

    reader = sunpower.read_capture(Counting(data))
    assert iter(reader) is reader
    next(reader)
    assert Counting.consumed < len(data) // 2
    assert sum(1 for _ in reader) == 3999
    assert reader.stats["posts"] == 4000
    assert reader.stats["records"] == 12000


def test_a_cut_post_is_incomplete_and_keeps_its_whole_lines(
    caplog: pytest.LogCaptureFixture,
) -> None:
    data = pcap(post(BODY[:-10], start=T0, port=40000, declared=len(BODY)))
    with caplog.at_level(logging.WARNING, logger="sunpower"):
        posts = list(sunpower.read_capture(io.BytesIO(data)))
    assert len(posts) == 1
    cut = posts[0]
    assert not cut.complete
    assert cut.missing_bytes == 10
    assert [r.record_type for r in cut.records] == [100, 130]
    assert any("incomplete POST" in m for m in caplog.messages)


def test_bad_values_of_a_post_are_its_errors() -> None:
    body = BODY.replace(b"18.5466", b"18.x")
    (only,) = sunpower.read_capture(io.BytesIO(pcap(post(body, start=T0, port=40000))))
    # The bad value costs its field: the line's record is kept without it.
    assert [r.record_type for r in only.records] == [100, 130, 102]
    assert only.records[1].lifetime_energy_kwh is None
    (error,) = only.errors
    assert isinstance(error, sunpower.DecodeError)
    assert (error.line, error.field) == (2, "lifetime_energy_kwh")


def test_unreadable_sources_raise_capture_error(tmp_path: Path) -> None:
    with pytest.raises(sunpower.CaptureError) as info:
        list(sunpower.read_capture(tmp_path / "missing.pcap"))
    assert isinstance(info.value, OSError)
    assert "missing.pcap" in str(info.value)
    with pytest.raises(sunpower.CaptureError, match="not a pcap"):
        list(sunpower.read_capture(io.BytesIO(b"GET / HTTP/1.1\r\n\r\n" * 10)))
    with pytest.raises(TypeError):
        sunpower.read_capture(42)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        sunpower.read_capture()


def test_an_exception_in_a_file_object_propagates() -> None:
    class Broken(io.RawIOBase):
        def read(self, n: int = -1) -> bytes:
            raise KeyError("boom")

    with pytest.raises(KeyError, match="boom"):
        list(sunpower.read_capture(Broken()))


@pytest.mark.skipif(not SAMPLE.exists(), reason="examples/sample.pcap not in this tree")
def test_to_dict_equals_sunpower_decode_on_the_sample_capture(sunpower_cli: Path) -> None:
    out = subprocess.run(
        [str(sunpower_cli), "decode", str(SAMPLE)], capture_output=True, check=True, text=True
    ).stdout.splitlines()
    got = [r.to_dict() for p in sunpower.read_capture(SAMPLE) for r in p.records]
    assert len(got) == len(out) > 5000
    for line, record in zip(out, got):
        expected = json.loads(line)
        assert record == expected
        assert list(record) == list(expected)
