"""The STIX object store on OpenSearch behind the whole STIX path: a partner bundle through the
pipeline into `ARGUS_STIX=http://...`, then exports and TAXII (paged by the OASIS client) answer
exactly as they do on the embedded store for the same bundle."""

from __future__ import annotations

import shutil
import uuid
from pathlib import Path

import orjson
import pytest
from stix2validator import ValidationOptions, validate_parsed_json

from tests.e2e.conftest import make_workdir
from tests.e2e.test_api import Live
from tests.e2e.test_stix import BUNDLE, OTHER, PARTNER

pytestmark = [pytest.mark.integration]


def answers(tmp: Path) -> dict[str, object]:
    from taxii2client.v21 import Server, as_pages

    wd = tmp
    topo = make_workdir(wd, background=0)
    shutil.copy(BUNDLE, wd / "inbox" / "stix" / "partner.json")
    live = Live(topo)
    try:
        exports = {}
        for agency in (PARTNER, OTHER):
            got = live.client(agency).get("/api/v1/stix/bundle")
            assert got.status_code == 200, got.text
            bundle = orjson.loads(got.content)
            assert validate_parsed_json(bundle, ValidationOptions(version="2.1")).is_valid
            exports[agency] = sorted(orjson.dumps(o, option=orjson.OPT_SORT_KEYS) for o in bundle["objects"])
        key = live.keys[(PARTNER, "analyst", None)]
        (root,) = Server(live.url + "/taxii2/", user="usdhs0000-analyst", password=key).api_roots
        (col,) = root.collections
        pages = [sorted(o["id"] for o in env.get("objects", [])) for env in as_pages(col.get_objects, per_request=7)]
        versions = col.object_versions(orjson.loads(BUNDLE.read_bytes())["objects"][-2]["id"])
        return {"exports": exports, "taxii": sorted(i for p in pages for i in p), "pages": len(pages),
                "versions": len(versions.get("versions", []))}  # fmt: skip
    finally:
        live.close()


def test_exports_and_taxii_on_opensearch_equal_the_embedded_store(
    opensearch_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    embedded = answers(tmp_path / "embedded")
    index = f"e2e{uuid.uuid4().hex[:8]}"
    monkeypatch.setenv("ARGUS_STIX", f"{opensearch_url}?stix_index={index}")
    on_server = answers(tmp_path / "opensearch")
    from opensearchpy import OpenSearch

    held = OpenSearch(opensearch_url).count(index=index)["count"]
    assert held == len(orjson.loads(BUNDLE.read_bytes())["objects"])  # every version, on the server
    assert on_server == embedded
    assert embedded["pages"] >= 5 and embedded["versions"] == 2 and embedded["exports"][PARTNER]
