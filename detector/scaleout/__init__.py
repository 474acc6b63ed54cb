"""The scaled-out deployment: per-account work on a Spark cluster, analysis in one process.

- Stage 1 (``stage1``): a Spark Structured Streaming job reads the event log as files
  (``store.segment_export``), keys it by account, holds each account's records in
  event-time windows with the embedded engine's lateness (``windower``), and runs the
  engine's own window aggregate (``features.windows.aggregate_window``) on every
  closed window inside ``applyInArrow`` (``frames``); each micro-batch's aggregates go
  to the database in one transaction with its batch id (``sink``).
- Stage 2 (``stage2``): one process reads those aggregates in window order and hands
  them to the embedded ``Engine`` (``Engine.close_aggregated``), which merges,
  clusters, scores and opens cases exactly as it does from records. What depends on
  the global order of windows (models first seen, the organisation of clusters) is
  worked out there.

docs/operations.md shows how to run it and what it costs.
"""
