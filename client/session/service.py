"""`ShiftService`: everything the agent does with the gateway — enrol, fetch settings, send a
posture report, clock in and out, change status (queued when the gateway cannot be reached),
heartbeat, recent activity — as plain blocking calls. The commands call it directly; the TUI
calls it from thread workers. Every failure is a SessionError carrying a bilingual hint."""

from __future__ import annotations

import datetime as dt
import json
import secrets
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from ..checks.checklist import run_each
from ..checks.context import CheckContext, GatewayEndpoint, Progress, ProgressCallback
from ..checks.result import CheckResult, Hint, Status
from ..lang import Lang
from ..state import (
    Enrolment,
    Session,
    clear_session,
    client_home,
    load_enrolment,
    load_session,
    save_session,
    write_private,
)
from .answers import (
    ClockOutOutcome,
    EnrolOutcome,
    FlushResult,
    Notice,
    PostureFollowUp,
    PostureVerdict,
    RecheckOutcome,
    Settings,
    StatusSnapshot,
    unix_time,
)
from .control_client import TIMEOUT_S, ControlClient
from .device_key import DeviceKeyError, fingerprint, load_device_key, private_bytes
from .enrolment import enrol_device
from .errors import (
    ApiRefusedError,
    GatewayUnreachableError,
    NotClockedInError,
    NotEnrolledError,
    SessionError,
)
from .first_contact import ca_fingerprint, offered_ca, parse_gateway_url
from .recheck import RecheckState, decide, next_due
from .shift_file import PendingChange, RefusedChange, ShiftFile, ShiftRecord
from .signing import sign_report
from .status_model import AgentStatus, Change, Shift, parse_status

RENEW_MARGIN_S = 300.0
"""Renew the session token when it has less than this left (it lives 15 minutes by default)."""
MAX_FLUSH_PER_CALL = 1000
"""A bound on one delivery round; a queue longer than this is the rest of a very long outage."""

SHIFT_ENDED = frozenset({"posture_expired", "not_clocked_in"})
"""Refusals of renewal and heartbeat that mean the gateway ended the shift."""
OTHER_AGENTS_CHANGE = Hint(
    zh="这是本电脑上一位坐席离线时的状态变更，不会以您的名义发送；如需补记，请告诉班组长。",
    en="A status change the previous agent on this PC made while offline: it is not sent under "
    "your name; tell your team lead if it must be recorded.",
)

# Answers after which a queued change can never be delivered as it is: recorded as refused.
# Others (401 clocks/device, 5xx) are the gateway's or the PC's problem to fix; the change waits.
FINAL_REFUSALS = frozenset({400, 403, 404, 409, 422})
RECHECK_FILE = "recheck.json"
"""When the gateway last took a report from this PC and its schedule (recheck.RecheckState)."""


class ShiftService:
    """The agent's side of the shift, for the client enrolled in `home` (default: the
    client's home). `clock` gives Unix seconds (for the request signatures and timers)."""

    def __init__(
        self,
        home: Path | None = None,
        lang: Lang = "en",
        *,
        clock: Callable[[], float] = time.time,
        timeout: float = TIMEOUT_S,
    ) -> None:
        self.home = home or client_home()
        self.home.mkdir(mode=0o700, parents=True, exist_ok=True)
        self.lang = lang
        self._clock = clock
        self._timeout = timeout

    # --- enrolment -----------------------------------------------------------------------

    @property
    def enrolment(self) -> Enrolment | None:
        return load_enrolment(self.home)

    def offered_ca(self, gateway_url: str) -> tuple[str, str]:
        """(CA PEM, its fingerprint) as the gateway at `gateway_url` presents it, untrusted:
        show the fingerprint and let the agent compare before enrolling with it."""
        host, port = parse_gateway_url(gateway_url)
        pem = offered_ca(host, port)
        return pem, ca_fingerprint(pem)

    def enrol(
        self,
        code: str,
        gateway_url: str,
        *,
        ca_pem: str | None = None,
        expected_fingerprint: str | None = None,
    ) -> EnrolOutcome:
        """Make a new device key and register it with a one-time code (see enrolment.py for
        how the first contact is trusted). A previous enrolment of this PC is replaced; status
        changes it still had queued are delivered first, or carried over to the new key."""
        previous_agent = self.enrolment.agent if self.enrolment is not None else None
        carried = self._queued_before_enrolling()
        outcome = enrol_device(
            self.home,
            code,
            gateway_url,
            ca_pem=ca_pem,
            expected_fingerprint=expected_fingerprint,
            timeout=self._timeout,
        )
        if carried:
            # Another agent's changes never go out under this agent's name (a PC handed on):
            # they are kept as refused, for the agent and support to see.
            record = ShiftRecord(pending=carried)
            if outcome.agent != previous_agent:
                for change in carried:
                    record = record.refused_change(change, OTHER_AGENTS_CHANGE)
            shift_file = self._shift_file()
            with shift_file.locked():
                shift_file.save(record)
        return outcome

    def _queued_before_enrolling(self) -> tuple[PendingChange, ...]:
        """The changes the current enrolment could not deliver (none when there is none)."""
        if self.enrolment is None:
            return ()
        try:
            self.flush_pending()
            shift_file = self._shift_file()
            with shift_file.locked():
                return shift_file.load().pending
        except SessionError:  # no key, nothing to carry: the shift file cannot be opened
            return ()

    # --- the signed calls ------------------------------------------------------------------

    @contextmanager
    def _client(self) -> Iterator[ControlClient]:
        enrolment = self.enrolment
        if enrolment is None:
            raise NotEnrolledError()
        key = self._device_key()
        client = ControlClient(
            enrolment.control_url,
            Path(enrolment.ca_file),
            enrolment.agent,
            key,
            clock=self._clock,
            timeout=self._timeout,
        )
        try:
            yield client
        finally:
            client.close()

    def _shift_file(self) -> ShiftFile:
        enrolment = self.enrolment
        if enrolment is None:
            raise NotEnrolledError()
        key = self._device_key()
        return ShiftFile(self.home, private_bytes(key), enrolment.agent)

    def _device_key(self) -> Ed25519PrivateKey:
        try:
            return load_device_key(self.home)
        except DeviceKeyError:
            raise SessionError(KEY_LOST, code="device_key_lost") from None

    def device_fingerprint(self) -> str:
        return fingerprint(self._device_key())

    def settings(self) -> Settings:
        with self._client() as api:
            answer = api.call("GET", "/v1/settings")
        notice = answer["notice"]
        settings = Settings(
            agent=answer["agent"],
            role=answer["role"],
            posture=answer["posture"],
            recheck_interval=float(answer["recheck_interval"]),
            max_age=float(answer["max_age"]),
            notice=Notice(notice["version"], notice["zh"], notice["en"]),
            proxy=answer["proxy"],
            token_ttl=float(answer["token_ttl"]),
        )
        self._save_recheck(
            self._recheck_state().settings_fetched(settings.recheck_interval, settings.max_age)
        )
        return settings

    def send_posture(self, results: Sequence[CheckResult]) -> PostureVerdict:
        """Sign and send the checks' results as a posture report; the gateway's verdict."""
        report = {"version": 1, "checks": {r.name: r.to_report() for r in results}}
        report_json = json.dumps(report, ensure_ascii=False, separators=(",", ":"))
        key = self._device_key()
        with self._client() as api:
            answer = api.call(
                "POST",
                "/v1/posture",
                {"report_json": report_json, "signature": sign_report(key, report_json)},
            )
        verdict = PostureVerdict(
            passed=bool(answer["passed"]),
            failing=list(answer["failing"]),
            warnings=list(answer["warnings"]),
            checks=list(answer["checks"]),
            expires_at=str(answer["expires_at"]),
        )
        reported = self._recheck_state().reported(
            self._clock(), unix_time(verdict.expires_at), verdict.passed
        )
        self._save_recheck(reported)
        return verdict

    # --- re-checks during the shift --------------------------------------------------------

    def _recheck_state(self) -> RecheckState:
        try:
            data = json.loads((self.home / RECHECK_FILE).read_text("utf-8"))
        except (FileNotFoundError, ValueError):
            return RecheckState()  # none yet, or torn: the next re-check is simply due now
        return RecheckState.from_json(data)

    def _save_recheck(self, state: RecheckState) -> None:
        write_private(self.home / RECHECK_FILE, json.dumps(state.to_json()).encode())

    def next_recheck_at(self) -> float | None:
        """When the next re-check is due (Unix seconds; now or earlier: due now); None when not
        clocked in. No network."""
        if self.session is None:
            return None
        due = next_due(self._recheck_state())
        return self._clock() if due is None else due

    def follow_posture(
        self, failing: Sequence[str], warnings: Sequence[str] = (), *, judged_here: bool = False
    ) -> PostureFollowUp:
        """Apply what a report's results mean for the status (recheck.decide): not ready now,
        as the next status during a contact, or nothing; a change goes through the sealed
        queue like any other (and waits there while the gateway cannot be reached)."""
        shift_file = self._shift_file()
        with shift_file.locked():
            record = shift_file.load()
            if not record.shift.clocked_in or self.session is None:
                raise NotClockedInError()
            consequence = decide(record.shift, failing, warnings)
            shift, changes = consequence.apply(record.shift, self._clock())
            shift_file.save(replace(record, shift=shift).queued(changes))
        delivery = self.flush_pending() if changes else None
        snapshot = replace(self.status(), delivery=delivery)
        return PostureFollowUp(consequence, snapshot, judged_here)

    def recheck(
        self, progress: ProgressCallback | None = None, *, input_device: str | None = None
    ) -> RecheckOutcome:
        """Re-run every check under the gateway's current limits, send the signed report and
        apply what it means for the status (follow_posture). Blocking for the checks' length
        (about 20 s): call it from a thread worker; `progress` is called from this thread.
        When the gateway cannot be reached first, nothing runs (the outcome says so and the
        next try comes sooner); when the report cannot be delivered, the results are judged
        here and a change waits in the queue. NotClockedInError when not clocked in; a shift
        the gateway ended is ended here too and its refusal raised (as heartbeat does)."""
        enrolment = self.enrolment
        if enrolment is None:
            raise NotEnrolledError()
        if self.session is None:
            raise NotClockedInError()
        try:
            with self._client() as api, self._shift_may_have_ended():
                api.call("POST", "/v1/heartbeat")  # not heartbeat(): no renewal refused here
            settings = self.settings()
        except GatewayUnreachableError as err:
            self._save_recheck(self._recheck_state().unreachable(self._clock()))
            return RecheckOutcome([], None, None, self.next_recheck_at(), err)
        tell = progress or _no_progress
        ctx = CheckContext(
            lang=self.lang,
            input_device=input_device,
            gateway=GatewayEndpoint(enrolment.control_url, Path(enrolment.ca_file)),
            progress=tell,
        )
        results = run_each(
            settings.posture, ctx, None, lambda name: tell(Progress(name, fraction=0.0))
        )
        verdict: PostureVerdict | None = None
        problem: SessionError | None = None
        try:
            verdict = self.send_posture(results)
        except GatewayUnreachableError as err:
            problem = err
            self._save_recheck(self._recheck_state().unreachable(self._clock()))
        if verdict is not None:
            follow_up = self.follow_posture(verdict.failing, verdict.warnings)
        else:
            failing = [r.name for r in results if r.status is Status.FAIL]
            warned = [r.name for r in results if r.status is Status.WARN]
            follow_up = self.follow_posture(failing, warned, judged_here=True)
        return RecheckOutcome(results, verdict, follow_up, self.next_recheck_at(), problem)

    # --- the shift ---------------------------------------------------------------------------

    @property
    def session(self) -> Session | None:
        return load_session(self.home)

    def clock_in(self, notice_version: str) -> Session:
        """Clock in, acknowledging the notice of this version (show it to the agent first).
        Status changes still queued from an earlier shift are delivered first."""
        self.flush_pending()
        with self._client() as api:
            answer = api.call(
                "POST", "/v1/clock-in", {"notice_version": notice_version, "nonce": _nonce()}
            )
        session = Session(answer["token"], unix_time(answer["expires_at"]))
        save_session(session, self.home)
        now = self._clock()
        shift_file = self._shift_file()
        with shift_file.locked():
            record = shift_file.load()
            shift = record.shift.clock_in(now)
            # a new shift: the agent has been told of any unreadable record by now
            record = replace(record, shift=shift, set_aside=None).queued([_first_change(shift)])
            shift_file.save(record)
        self.flush_pending()
        return session

    def renew(self) -> Session:
        """A fresh token for the open session (the posture report must still be fresh). When
        the gateway has ended the shift, this PC clocks out too and the refusal says why."""
        with self._client() as api, self._shift_may_have_ended():
            answer = api.call("POST", "/v1/session/renew", {"nonce": _nonce()})
        session = Session(answer["token"], unix_time(answer["expires_at"]))
        save_session(session, self.home)
        return session

    def renew_if_due(self, margin: float = RENEW_MARGIN_S) -> Session | None:
        """A fresh token when the current one has less than `margin` seconds left; the
        current one otherwise; None when not clocked in."""
        session = self.session
        if session is None:
            return None
        if session.expires_at - self._clock() > margin:
            return session
        return self.renew()

    @contextmanager
    def _shift_may_have_ended(self) -> Iterator[None]:
        try:
            yield
        except ApiRefusedError as err:
            if err.code in SHIFT_ENDED:
                clear_session(self.home)
                shift_file = self._shift_file()
                with shift_file.locked():
                    record = shift_file.load()
                    ended = record.shift.clock_out(self._clock())
                    shift_file.save(replace(record, shift=ended))
            raise

    def clock_out(self) -> ClockOutOutcome:
        """Deliver what is queued, then end the shift: the token stops working at once."""
        flushed = self.flush_pending()
        ended_at: str | None = None
        try:
            with self._client() as api:
                answer = api.call("POST", "/v1/clock-out")
            ended_at = str(answer["ended_at"])
        except ApiRefusedError as err:
            if err.code != "not_clocked_in":
                raise
        clear_session(self.home)
        shift_file = self._shift_file()
        with shift_file.locked():
            record = shift_file.load()
            shift_file.save(replace(record, shift=record.shift.clock_out(self._clock())))
        return ClockOutOutcome(ended_at, flushed.remaining)

    def set_status(self, status: AgentStatus | str, reason: str | None = None) -> StatusSnapshot:
        """Change status. The change is written to the sealed queue (durably) before anything
        is sent, then delivered if the gateway answers; when it does not, it waits in the
        queue (shown as pending) and goes out, in order, with the next delivery.
        StatusRefusedError when the change is not allowed now."""
        target = status if isinstance(status, AgentStatus) else parse_status(status)
        shift_file = self._shift_file()
        with shift_file.locked():
            record = shift_file.load()
            if not record.shift.clocked_in or self.session is None:
                raise NotClockedInError()
            shift, changes = record.shift.request(target, reason, self._clock())
            shift_file.save(replace(record, shift=shift).queued(changes))
        delivery = self.flush_pending()
        return replace(self.status(), delivery=delivery)

    def cancel_next(self) -> StatusSnapshot:
        shift_file = self._shift_file()
        with shift_file.locked():
            record = shift_file.load()
            shift_file.save(replace(record, shift=record.shift.cancel_next()))
        return self.status()

    def deliver(self) -> StatusSnapshot:
        """Deliver what is queued, then the snapshot (with what the delivery did)."""
        delivery = self.flush_pending()
        return replace(self.status(), delivery=delivery)

    def flush_pending(self) -> FlushResult:
        """Deliver queued status changes, oldest first, each once (its client_event_id makes a
        redelivery harmless). Stops at the first that cannot be delivered now."""
        shift_file = self._shift_file()
        delivered = 0
        refused: list[RefusedChange] = []
        problem: SessionError | None = None
        with self._client() as api:
            for _ in range(MAX_FLUSH_PER_CALL):
                with shift_file.locked():
                    pending = shift_file.load().pending
                if not pending:
                    break
                change = pending[0]
                try:
                    api.call("POST", "/v1/status", _status_body(change))
                except ApiRefusedError as err:
                    if err.status_code not in FINAL_REFUSALS:
                        problem = err
                        break
                    with shift_file.locked():
                        record = shift_file.load().refused_change(change, err.hint)
                        shift_file.save(record)
                    refused.append(RefusedChange(change, err.hint))
                    continue
                except GatewayUnreachableError as err:
                    problem = err
                    break
                with shift_file.locked():
                    shift_file.save(shift_file.load().delivered(change.id))
                delivered += 1
            if refused and problem is None:
                self._follow_gateway(api, shift_file)
        with shift_file.locked():
            remaining = len(shift_file.load().pending)
        return FlushResult(delivered, refused, remaining, problem)

    def _follow_gateway(self, api: ControlClient, shift_file: ShiftFile) -> None:
        """After a refusal the gateway's status is the truth: take it over (best effort)."""
        try:
            answer = api.call("GET", "/v1/status")
        except SessionError:
            return
        with shift_file.locked():
            record = shift_file.load()
            if record.pending:
                return
            status = AgentStatus(answer["status"])
            since = unix_time(answer["since"]) if answer.get("since") else self._clock()
            shift = record.shift
            if status is AgentStatus.OFFLINE:
                shift = shift.clock_out(since)
                clear_session(self.home)
            else:
                shift = Shift(status, answer.get("reason"), since, shift.shift_start, None)
            shift_file.save(replace(record, shift=shift))

    def heartbeat(self) -> dict[str, Any]:
        """Tell the gateway the client is still there (and renew the token when due). A
        posture report that expired ends the session there: the refusal says so."""
        with self._client() as api, self._shift_may_have_ended():
            answer = api.call("POST", "/v1/heartbeat")
        self.renew_if_due()
        return answer

    def activity(self, limit: int = 50) -> list[dict[str, Any]]:
        """The agent's latest flow decisions (blocked, masked), newest first."""
        with self._client() as api:
            answer = api.call("GET", f"/v1/activity?limit={int(limit)}")
        items: list[dict[str, Any]] = answer["items"]
        return items

    def gateway_status(self) -> dict[str, Any]:
        """`GET /v1/status`: the status as the gateway has it."""
        with self._client() as api:
            return api.call("GET", "/v1/status")

    def status(self) -> StatusSnapshot:
        """The shift as this PC has it, with what is still queued. No network."""
        now = self._clock()
        shift_file = self._shift_file()
        with shift_file.locked():
            record: ShiftRecord = shift_file.load()
        shift = record.shift
        session = self.session
        return StatusSnapshot(
            clocked_in=shift.clocked_in and session is not None,
            status=shift.status,
            reason=shift.reason,
            since=shift.since,
            seconds_in_status=shift.seconds_in_status(now),
            shift_start=shift.shift_start,
            shift_seconds=shift.shift_seconds(now),
            next=shift.next,
            pending=list(record.pending),
            refused=list(record.refused),
            token_expires_at=session.expires_at if session else None,
            set_aside=record.set_aside,
        )


def _no_progress(_: Progress) -> None:
    return None


def _first_change(shift: Shift) -> Change:
    assert shift.since is not None
    return Change(shift.status, shift.reason, shift.since)


def _status_body(change: PendingChange) -> dict[str, Any]:
    return {
        "status": change.status.value,
        "reason": change.reason,
        "client_event_id": change.id,
        "client_time": dt.datetime.fromtimestamp(change.at, dt.UTC).isoformat(),
    }


KEY_LOST = Hint(
    zh="这台电脑的设备密钥丢失或无法读取：请向安全管理员申请新的登记码，然后重新登记"
    "（homeagent enrol 登记码 --gateway 网址）",
    en="This PC's device key is missing or unreadable: ask your security officer for a new "
    "enrolment code and enrol again (`homeagent enrol CODE --gateway URL`)",
)


def _nonce() -> str:
    """For a request the gateway takes only once (it hands out a token): two such requests in
    one second must not be signed alike, or the second would be refused as a replay."""
    return secrets.token_hex(16)
