#!/usr/bin/env bash
# Scheduled retraining entry point (cron or the systemd timer): retrains the latest model on the newest prepared
# data, verifies the candidate, and logs the outcome. Exit codes: 0 promoted, 3 kept as candidate (not an error for
# the scheduler), 4 skipped because another job holds MODELS_DIR (a previous retrain still running, on any host),
# 1 failed, 2 bad configuration.
#   BATON_HOME     the distribution (default /opt/baton)
#   RETRAIN_CONF   job configuration (default $BATON_HOME/conf/retrain.conf; any baton config file works)
#   MODELS_DIR     latest.zip, candidates/, promotions.jsonl (default /var/lib/baton/models)
#   DATA           prepared data set (baton prepare output) to retrain on, or null for generated images
#   FROM           model to start from (default $MODELS_DIR/latest.zip)
set -uo pipefail
BATON_HOME="${BATON_HOME:-/opt/baton}"
RETRAIN_CONF="${RETRAIN_CONF:-$BATON_HOME/conf/retrain.conf}"
MODELS_DIR="${MODELS_DIR:-/var/lib/baton/models}"
: "${DATA:?set DATA to the prepared data set to retrain on}"
FROM="${FROM:-$MODELS_DIR/latest.zip}"

conf_args=()
[ -f "$RETRAIN_CONF" ] && conf_args=(-c "$RETRAIN_CONF")
echo "$(date -u +%FT%TZ) retrain from $FROM on $DATA into $MODELS_DIR"
bash "$BATON_HOME/bin/baton" retrain --from "$FROM" --data "$DATA" --models-dir "$MODELS_DIR" "${conf_args[@]}" "$@"
code=$?
case "$code" in
  0)
    echo "$(date -u +%FT%TZ) promoted; verifying $MODELS_DIR/latest.zip"
    bash "$BATON_HOME/bin/baton" verify-model "$MODELS_DIR/latest.zip" || exit 1
    ;;
  3) echo "$(date -u +%FT%TZ) candidate not promoted (see $MODELS_DIR/promotions.jsonl)" ;;
  4) echo "$(date -u +%FT%TZ) skipped: another job holds $MODELS_DIR (see the message above)" >&2 ;;
  *) echo "$(date -u +%FT%TZ) retrain failed with exit code $code" >&2 ;;
esac
exit "$code"
