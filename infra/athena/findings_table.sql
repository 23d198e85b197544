-- The findings as an Athena table over s3://<bucket>/findings/ (JSON Lines, one object per account run).
-- Replace ${FINDINGS_BUCKET} with the stack output FindingsBucketName, e.g.:
--   FINDINGS_BUCKET=socialaudit-prod-findingsbucket-abc123 envsubst < infra/athena/findings_table.sql
-- Layout (functions/store.py): findings/dt=YYYY-MM-DD/account=<key>/run=<run_id>.jsonl
--
-- Partition projection on dt (the day a finding was detected): no crawler, no MSCK REPAIR, and a query
-- that filters on dt reads only those days. The account key is not a partition: it is a folder under
-- each day, which Athena reads with the day; the `account` column (the account's name on its platform)
-- and "$path" (which holds account=<key>) select accounts instead.

CREATE DATABASE IF NOT EXISTS socialaudit;

CREATE EXTERNAL TABLE IF NOT EXISTS socialaudit.findings (
  finding_id      string,
  post_id         string,
  platform        string,
  account         string,
  category        string,
  rule            string,
  severity        string,
  action          string,
  confidence      double,
  evidence        string,
  post_url        string,
  author          struct<id:string, handle:string, name:string, is_org:boolean>,
  created_at      string,
  detected_at     string,
  policy          string,
  policy_version  string,
  run_id          string,
  clause          string,
  kind            string,
  excerpt         string
)
PARTITIONED BY (dt string)
ROW FORMAT SERDE 'org.openx.data.jsonserde.JsonSerDe'
WITH SERDEPROPERTIES ('ignore.malformed.json' = 'false')
LOCATION 's3://${FINDINGS_BUCKET}/findings/'
TBLPROPERTIES (
  'projection.enabled' = 'true',
  'projection.dt.type' = 'date',
  'projection.dt.format' = 'yyyy-MM-dd',
  'projection.dt.range' = '2026-01-01,NOW',
  'projection.dt.interval' = '1',
  'projection.dt.interval.unit' = 'DAYS',
  'storage.location.template' = 's3://${FINDINGS_BUCKET}/findings/dt=${dt}/'
);
