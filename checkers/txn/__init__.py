"""The transactional checker: Elle's method for Kafka transactions (issue 21).

Histories of transactions of sends and polls (model), each key's version order inferred from offsets
(versions), the anomalies that are no cycle (anomalies), the dependency graph of ww, wr and rw edges
with optional process and real-time order (graph), its cycles found and named G0, G1c, G-single, G2
(cycles), shown in words and drawn (render), and the verdict against the claim (checker). The format
and the anomalies are in docs/txn-checker.md.
"""
