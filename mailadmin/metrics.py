"""Prometheus metrics of one web process: requests, latency, logins, directory operations, import jobs.

Each app has its own registry (tests build many apps in one process; prometheus_client's global
registry would refuse the second). Every web process is scraped on its own port: counters are per
process, as Prometheus expects, and summed in queries.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
# Page latencies: most pages take 10-30 ms; a first sorted list at 100,000 mailboxes ~0.5 s.
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
Counts = Callable[[], Mapping[str, int]]


class LdapOperations(Collector):
    """A directory client's operation counts, read when scraped."""

    def __init__(self, counts: Counts) -> None:
        self.counts = counts

    def collect(self) -> Iterator[Metric]:
        operations = CounterMetricFamily("mailadmin_ldap_operations", "Directory operations by outcome "
                                         "(ok, error: refused by the server, unreachable)", labels=["outcome"])
        for outcome, count in self.counts().items():
            operations.add_metric([outcome], count)
        yield operations


class _Sampled(Collector):
    """Values read when scraped: the directory client's counters and the import journal's jobs."""

    def __init__(self, ldap_operations: Counts, import_jobs: Counts) -> None:
        self.ldap_operations = ldap_operations
        self.import_jobs = import_jobs

    def collect(self) -> Iterator[Metric]:
        yield from LdapOperations(self.ldap_operations).collect()
        jobs = GaugeMetricFamily("mailadmin_import_jobs", "Import jobs in the journal by state", labels=["state"])
        for state, count in self.import_jobs().items():
            jobs.add_metric([state], count)
        yield jobs


class WebMetrics:
    """The metrics one web process keeps and renders."""

    def __init__(self, ldap_operations: Counts, import_jobs: Counts) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter("mailadmin_http_requests", "HTTP requests by endpoint, method and status",
                                ["endpoint", "method", "status"], registry=self.registry)
        self.latency = Histogram("mailadmin_http_request_duration_seconds", "Time to answer a request",
                                 ["endpoint"], buckets=LATENCY_BUCKETS, registry=self.registry)
        self.logins = Counter("mailadmin_logins", "Web logins by outcome (ok, failed, throttled)", ["outcome"],
                              registry=self.registry)
        self.registry.register(_Sampled(ldap_operations, import_jobs))

    def request(self, endpoint: str, method: str, status: int, seconds: float) -> None:
        """Count one answered request and its latency."""
        self.requests.labels(endpoint, method, str(status)).inc()
        self.latency.labels(endpoint).observe(seconds)

    def login(self, outcome: str) -> None:
        """Count one login attempt."""
        self.logins.labels(outcome).inc()

    def render(self) -> bytes:
        """The Prometheus text exposition of every metric."""
        return generate_latest(self.registry)
