"""The artifact bucket of one account and region: content-addressed uploads that skip what exists.

Keys carry the sha256 of their content (templates/<sha256>.yaml, lambdas/<name>/<sha256>.zip), so
an existing key already holds the right bytes: a HEAD is enough, and re-deploying uploads nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError

from payctl.aws.errors import aws_errors, is_not_found, translate
from payctl.errors import ArtifactBucketMissing


@dataclass(frozen=True)
class Artifact:
    key: str
    body: bytes
    content_type: str


@dataclass(frozen=True)
class UploadReport:
    uploaded: tuple[str, ...]
    skipped: tuple[str, ...]


def object_url(bucket: str, region: str, key: str) -> str:
    """The regional virtual-hosted URL CloudFormation reads TemplateURL from."""
    return f"https://{bucket}.s3.{region}.amazonaws.com/{key}"


class ArtifactStore:
    def __init__(self, s3: Any, bucket: str, region: str) -> None:
        self.s3 = s3
        self.bucket = bucket
        self.region = region

    def url(self, key: str) -> str:
        return object_url(self.bucket, self.region, key)

    def ensure_bucket(self, *, create: bool = False) -> bool:
        """Check the bucket exists; create it only when asked (the local emulator). True if created."""
        try:
            self.s3.head_bucket(Bucket=self.bucket)
            return False
        except ClientError as error:
            if not is_not_found(error):
                raise translate(error, f"checking artifact bucket {self.bucket}") from error
        if not create:
            raise ArtifactBucketMissing(
                f"artifact bucket {self.bucket} does not exist in {self.region}",
                hint="run `payctl bootstrap` for this environment first (with --local, payctl creates it)",
            )
        with aws_errors(f"creating artifact bucket {self.bucket}"):
            arguments: dict[str, Any] = {"Bucket": self.bucket}
            if self.region != "us-east-1":  # us-east-1 rejects an explicit location constraint
                arguments["CreateBucketConfiguration"] = {"LocationConstraint": self.region}
            self.s3.create_bucket(**arguments)
        return True

    def exists(self, key: str) -> bool:
        try:
            self.s3.head_object(Bucket=self.bucket, Key=key)
            return True
        except ClientError as error:
            if is_not_found(error):
                return False
            raise translate(error, f"checking s3://{self.bucket}/{key}") from error

    def put(self, artifact: Artifact) -> bool:
        """Upload unless the key exists already; True when it was uploaded."""
        if self.exists(artifact.key):
            return False
        with aws_errors(f"uploading s3://{self.bucket}/{artifact.key}"):
            self.s3.put_object(Bucket=self.bucket, Key=artifact.key, Body=artifact.body,
                               ContentType=artifact.content_type)
        return True

    def put_all(self, artifacts: list[Artifact]) -> UploadReport:
        uploaded: list[str] = []
        skipped: list[str] = []
        for artifact in artifacts:
            (uploaded if self.put(artifact) else skipped).append(artifact.key)
        return UploadReport(tuple(uploaded), tuple(skipped))
