"""The score's figures in SQL (tracker.stats' rules), so that a command never loads a whole
server's launches to count them: the statements behind SqlLaunches' tallies and chart rows.

Both backends run the same statements; only day arithmetic differs (SQLite's julianday, a
PostgreSQL date subtraction), chosen by :func:`storage.rows.is_postgres`. Days are stored as ISO
text on both. tracker.stats' pure rules are the reference; the tests compare the two on varied
data on both backends.
"""

from __future__ import annotations

from typing import Any, Literal

from storage.db import Connection
from storage.rows import followed_clause, is_postgres
from tracker.records import LaunchScope, NameTally, ScoreTally

__all__ = ["ScoreSql"]

_OPEN = "state NOT IN ('shipped', 'cancelled')"


class ScoreSql:
    """The statements for one connection's dialect."""

    __slots__ = ("pg",)

    def __init__(self, conn: Connection) -> None:
        self.pg = is_postgres(conn)

    def day(self, expr: str) -> str:
        """An ISO day column or parameter as something that orders and subtracts as a day."""
        return f"CAST({expr} AS DATE)" if self.pg else expr

    def days_between(self, later: str, earlier: str) -> str:
        """Whole days from *earlier* to *later* (ISO days), signed."""
        if self.pg:
            return f"(CAST({later} AS DATE) - CAST({earlier} AS DATE))"
        return f"CAST(julianday({later}) - julianday({earlier}) AS INTEGER)"

    def scoped(self, scope: LaunchScope, today: str | None) -> tuple[str, list[Any]]:
        """CTEs ``s`` (the scope's launches, rumours included, with ``fwe``: the first window
        end, and ``late``: signed days late as of *today*, tracker.stats.days_late) and ``c``
        (after the rumour filter, with ``scored`` 0/1), and their parameters."""
        where = "guild_id = ?"
        params: list[Any] = [today or "9999-12-31", scope.guild_id]
        for column, names in (("vendor", scope.vendors), ("announcer", scope.announcers)):
            if names is None:
                continue
            if not names:
                where += " AND 1 = 0"
                continue
            where += f" AND {column} IN ({', '.join('?' * len(names))})"
            params.extend(names)
        followed, followed_params = followed_clause(scope.followed, "vendor", "id")
        where += followed
        params.extend(followed_params)
        chosen = "" if scope.rumours else " WHERE evidence <> 'rumour'"
        shipped_late = self.days_between("shipped_on", "fwe")
        running = self.days_between("t.today", "fwe")
        sql = (
            "t AS (SELECT CAST(? AS TEXT) AS today), "
            "b AS (SELECT id, product, vendor, announcer, state, evidence, slip_count, "
            "window_end, announced_on, days_late, NULLIF(shipped_on, '') AS shipped_on, "
            "COALESCE(NULLIF(first_window_end, ''), window_end) AS fwe "
            f"FROM launches WHERE {where}), "
            "s AS (SELECT b.*, CASE "
            "WHEN state = 'shipped' THEN CASE WHEN shipped_on IS NULL THEN days_late "
            f"ELSE {shipped_late} END "
            "WHEN state = 'cancelled' THEN NULL "
            f"WHEN {running} > 0 THEN {running} END AS late FROM b CROSS JOIN t), "
            "c AS (SELECT s.*, CASE WHEN state IN ('shipped', 'cancelled') OR late IS NOT NULL "
            f"THEN 1 ELSE 0 END AS scored FROM s{chosen})"
        )
        return sql, params

    def _ratio(self) -> str:
        spent = self.days_between("shipped_on", "announced_on")
        return f"CAST({spent} AS DOUBLE PRECISION) / {self.days_between('fwe', 'announced_on')}"

    def _multiples(self) -> str:
        """Rows ``v`` of the time multiplier (shipped late, a promised span above zero)."""
        return (
            f"SELECT {{key}}{self._ratio()} AS v FROM c WHERE state = 'shipped' AND late > 0 "
            f"AND shipped_on IS NOT NULL AND {self.days_between('fwe', 'announced_on')} > 0"
        )

    @staticmethod
    def _counts() -> str:
        def total(condition: str, value: str = "1") -> str:
            return f"COALESCE(SUM(CASE WHEN {condition} THEN {value} ELSE 0 END), 0)"

        shipped, cancelled = "state = 'shipped'", "state = 'cancelled'"
        return ", ".join(
            (
                f"COUNT(*) AS total, {total('scored = 1')} AS scored",
                f"{total(shipped + ' AND late <= 0')} AS on_time",
                f"{total(shipped + ' AND late > 0')} AS shipped_late",
                f"{total(_OPEN + ' AND late IS NOT NULL')} AS overdue_open",
                f"{total(cancelled)} AS cancelled",
                f"{total('scored = 1', 'slip_count')} AS slips",
            )
        )

    def _kept(self) -> str:
        return (
            "COALESCE(SUM(CASE WHEN state = 'shipped' AND shipped_on IS NOT NULL AND "
            f"{self.days_between('window_end', 'shipped_on')} >= 0 THEN 1 ELSE 0 END), 0) "
            "AS kept_latest"
        )

    def tally(self, scope: LaunchScope, today: str) -> tuple[str, list[Any]]:
        """One row: every count of the score, the middle values of the two medians."""
        ctes, params = self.scoped(scope, today)
        middle = "rn IN ((n + 1) / 2, (n + 2) / 2)"
        sql = (
            f"WITH {ctes}, "
            "lv AS (SELECT late AS v, ROW_NUMBER() OVER (ORDER BY late) AS rn, "
            "COUNT(*) OVER () AS n FROM c WHERE late > 0), "
            f"mv AS ({self._multiples().format(key='')}), "
            "mw AS (SELECT v, ROW_NUMBER() OVER (ORDER BY v) AS rn, COUNT(*) OVER () AS n "
            "FROM mv) "
            f"SELECT (SELECT COUNT(*) FROM s) AS matching, {self._counts()}, {self._kept()}, "
            f"(SELECT MIN(v) FROM lv WHERE {middle}) AS late_lo, "
            f"(SELECT MAX(v) FROM lv WHERE {middle}) AS late_hi, "
            f"(SELECT MIN(v) FROM mw WHERE {middle}) AS mul_lo, "
            f"(SELECT MAX(v) FROM mw WHERE {middle}) AS mul_hi, "
            "(SELECT COUNT(*) FROM mv) AS mul_n FROM c"
        )
        return sql, params

    def tally_by(
        self, scope: LaunchScope, today: str, by: Literal["vendor", "announcer"]
    ) -> tuple[str, list[Any]]:
        """A row per stored spelling of *by* (launches without one left out): its counts, its
        first launch id and the middle values of its medians."""
        ctes, params = self.scoped(scope, today)
        middle = "w.rn IN ((w.n + 1) / 2, (w.n + 2) / 2) AND w.name = g"
        sql = (
            f"WITH {ctes}, "
            f"cn AS (SELECT c.*, {by} AS g FROM c WHERE {by} IS NOT NULL), "
            "lv AS (SELECT g AS name, late AS v, "
            "ROW_NUMBER() OVER (PARTITION BY g ORDER BY late) AS rn, "
            "COUNT(*) OVER (PARTITION BY g) AS n FROM cn WHERE late > 0), "
            "mv AS (SELECT g AS name, v FROM ("
            f"{self._multiples().format(key=f'{by} AS g, ')} AND {by} IS NOT NULL) AS m), "
            "mw AS (SELECT name, v, ROW_NUMBER() OVER (PARTITION BY name ORDER BY v) AS rn, "
            "COUNT(*) OVER (PARTITION BY name) AS n FROM mv) "
            f"SELECT g, MIN(id) AS first_id, COUNT(*) AS matching, {self._counts()}, "
            f"{self._kept()}, "
            f"(SELECT MIN(v) FROM lv AS w WHERE {middle}) AS late_lo, "
            f"(SELECT MAX(v) FROM lv AS w WHERE {middle}) AS late_hi, "
            f"(SELECT MIN(v) FROM mw AS w WHERE {middle}) AS mul_lo, "
            f"(SELECT MAX(v) FROM mw AS w WHERE {middle}) AS mul_hi, "
            "(SELECT COUNT(*) FROM mv WHERE mv.name = g) AS mul_n "
            "FROM cn GROUP BY g ORDER BY first_id"
        )
        return sql, params

    def late_ones(
        self, scope: LaunchScope, today: str, *, open_only: bool, limit: int | None
    ) -> tuple[str, list[Any]]:
        """The late launches (overdue open ones only, with *open_only*), most late first: the
        worst slip's order (then the earlier first window end, then the lower id) or the
        still-late list's (then the lower id)."""
        ctes, params = self.scoped(scope, today)
        if open_only:
            where, order = f"{_OPEN} AND late IS NOT NULL", "k.late DESC, k.id"
        else:
            where, order = "late > 0", f"k.late DESC, {self.day('k.fwe')}, k.id"
        sql = (
            f"WITH {ctes} SELECT launches.* FROM launches JOIN "
            f"(SELECT id, late, fwe FROM c WHERE {where}) AS k ON k.id = launches.id "
            f"ORDER BY {order}"
        )
        if limit is not None:
            sql += " LIMIT ?"
            params.append(limit)
        return sql, params

    def _since(self, scope: LaunchScope, since: str | None) -> tuple[str, str, list[Any]]:
        ctes, params = self.scoped(scope, None)
        where = ""
        if since is not None:
            where = f" WHERE {self.days_between('announced_on', '?')} >= 0"
            params.append(since)
        return ctes, where, params

    def newest(self, scope: LaunchScope, since: str | None, limit: int) -> tuple[str, list[Any]]:
        """The scope's launches (rumours per the scope) announced on or after *since*, the
        most recently announced first (ties: the higher id), at most *limit*."""
        ctes, where, params = self._since(scope, since)
        sql = (
            f"WITH {ctes} SELECT launches.* FROM launches JOIN "
            f"(SELECT id, announced_on FROM c{where}) AS k ON k.id = launches.id "
            f"ORDER BY {self.day('k.announced_on')} DESC, k.id DESC LIMIT ?"
        )
        return sql, [*params, limit]

    def count_since(self, scope: LaunchScope, since: str | None) -> tuple[str, list[Any]]:
        """How many launches :meth:`newest` chooses from."""
        ctes, where, params = self._since(scope, since)
        return f"WITH {ctes} SELECT COUNT(*) FROM c{where}", params


def row_to_tally(row: Any) -> ScoreTally:
    """A tally row (of :meth:`ScoreSql.tally` or :meth:`ScoreSql.tally_by`) as the record."""
    late = None if row["late_lo"] is None else (int(row["late_lo"]), int(row["late_hi"]))
    multiple = None if row["mul_lo"] is None else (float(row["mul_lo"]), float(row["mul_hi"]))
    return ScoreTally(
        matching=int(row["matching"]),
        total=int(row["total"]),
        scored=int(row["scored"]),
        on_time=int(row["on_time"]),
        shipped_late=int(row["shipped_late"]),
        overdue_open=int(row["overdue_open"]),
        cancelled=int(row["cancelled"]),
        kept_latest=int(row["kept_latest"]),
        slips=int(row["slips"]),
        late_middle=late,
        multiplier_middle=multiple,
        multiplier_count=int(row["mul_n"]),
    )


def row_to_name_tally(row: Any) -> NameTally:
    """A row of :meth:`ScoreSql.tally_by` as the record."""
    return NameTally(name=row["g"], first_id=int(row["first_id"]), tally=row_to_tally(row))
