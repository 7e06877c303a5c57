#!/bin/sh
# Creates the namespace and Tributary's search attributes (the same list as
# src/temporal/search-attributes.ts; a test keeps the two in step). Idempotent.
set -eu
ns="${TEMPORAL_NAMESPACE:-default}"
until temporal operator cluster health --address "$TEMPORAL_ADDRESS" >/dev/null 2>&1; do sleep 1; done
temporal operator namespace describe --address "$TEMPORAL_ADDRESS" -n "$ns" >/dev/null 2>&1 ||
  temporal operator namespace create --address "$TEMPORAL_ADDRESS" -n "$ns" --retention 7d
for attr in RepoSlug=Keyword CommitSha=Keyword UploadMode=Keyword UploadCount=Int Outcome=Keyword ExperimentOutcome=Keyword Branch=Keyword PullRequest=Keyword Priority=Keyword VerifiedCommits=Int Mismatches=Int; do
  temporal operator search-attribute create --address "$TEMPORAL_ADDRESS" -n "$ns" \
    --name "${attr%%=*}" --type "${attr#*=}" 2>/dev/null || true
done
echo "namespace $ns and search attributes ready"
