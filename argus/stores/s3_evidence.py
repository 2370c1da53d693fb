"""Evidence on S3-compatible object storage (AWS S3, MinIO, Ceph, S3Proxy):
`s3://bucket?endpoint=http://host:port&region=us-east-1` (pip install -e '.[s3]'). Credentials
from the URL's `access_key`/`secret_key` or, as boto3 finds them, the environment. Objects are
named `sha256/<digest>`; the server checks each upload against its Content-MD5 (the flexible
checksums of newer S3 APIs are off: not every S3-compatible server has them), and every read is
checked against its SHA-256 by the caller."""

from __future__ import annotations

import base64
import hashlib
from urllib.parse import parse_qs, urlparse

from argus.stores.evidence import EvidenceStore, MissingObject, digest


class S3Evidence(EvidenceStore):
    def __init__(self, url: str) -> None:
        import boto3
        from botocore.config import Config

        u = urlparse(url)
        q = {k: v[-1] for k, v in parse_qs(u.query).items()}
        self.bucket = u.netloc
        self._s3 = boto3.client(
            "s3", endpoint_url=q.get("endpoint"), region_name=q.get("region", "us-east-1"),
            aws_access_key_id=q.get("access_key"), aws_secret_access_key=q.get("secret_key"),
            config=Config(s3={"addressing_style": "path"}, retries={"max_attempts": 3, "mode": "standard"},
                          request_checksum_calculation="when_required", response_checksum_validation="when_required"),
        )  # fmt: skip
        if q.get("create") == "true":
            try:
                self._s3.create_bucket(Bucket=self.bucket)
            except self._s3.exceptions.BucketAlreadyOwnedByYou:
                pass

    def _key(self, sha256: str) -> str:
        return f"sha256/{self._check(sha256)}"

    def put(self, data: bytes) -> str:
        d = digest(data)
        if not self.exists(d):
            md5 = base64.b64encode(hashlib.md5(data, usedforsecurity=False).digest()).decode()
            self._s3.put_object(Bucket=self.bucket, Key=self._key(d), Body=data, ContentMD5=md5)
        return d

    def get(self, sha256: str) -> bytes:
        try:
            got = self._s3.get_object(Bucket=self.bucket, Key=self._key(sha256))
        except self._s3.exceptions.NoSuchKey:
            raise MissingObject(sha256) from None
        return bytes(got["Body"].read())

    def exists(self, sha256: str) -> bool:
        from botocore.exceptions import ClientError

        try:
            self._s3.head_object(Bucket=self.bucket, Key=self._key(sha256))
            return True
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
                return False
            raise
        except MissingObject:
            return False

    def delete(self, sha256: str) -> None:
        self._s3.delete_object(Bucket=self.bucket, Key=self._key(sha256))

    def close(self) -> None:
        self._s3.close()
