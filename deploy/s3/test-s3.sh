#!/usr/bin/env bash
# Run directories on S3 through hadoop-aws's S3A, tested against an S3Proxy that the test starts on 127.0.0.1
# (transient blob store; no network beyond loopback). Apart from the default suite because the AWS SDK bundle that
# hadoop-aws needs is ~600 MB (downloaded by the first run). The default suite covers the same code paths on
# objstore://, a local directory with S3's semantics.
#
#   deploy/s3/test-s3.sh            # mvn -Ps3: coordinator/src/test-s3 (S3RunDirectoryTest)
set -euo pipefail
cd "$(dirname "$0")/../.."
exec mvn -B -Ps3 -pl coordinator -am test -Dtest='S3RunDirectoryTest' -Dsurefire.failIfNoSpecifiedTests=false "$@"
