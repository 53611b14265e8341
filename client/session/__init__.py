"""The agent's standing with the gateway: enrolment, device key, session, status.

The TUI's contract is `service.ShiftService(home, lang)`; each call blocks (run it in a thread
worker) and raises `errors.SessionError` (`.hint(lang)` is the sentence to show):

    enrol(code, url, ca_pem=… | expected_fingerprint=…)   offered_ca(url) -> (pem, fingerprint)
    settings() -> Settings (posture limits, notice)       send_posture(results) -> PostureVerdict
    clock_in(notice_version) -> Session                   clock_out() -> ClockOutOutcome
    set_status(status, reason) -> StatusSnapshot          cancel_next() -> StatusSnapshot
    flush_pending() -> FlushResult                        status() -> StatusSnapshot (no network)
    heartbeat() (renews the token when due)               activity(limit) -> recent decisions
    recheck(progress=…) -> RecheckOutcome                 next_recheck_at() -> Unix s (no network)
    follow_posture(failing, warnings) -> PostureFollowUp

Call heartbeat() about once a minute during a shift: it keeps the token fresh for the forwarder
and learns when the gateway ended the shift. `status_model` is the pure state machine (with the
next status and timers) behind set_status.

During a shift, call recheck() once next_recheck_at() has come (check about once a minute; it
takes ~20 s, with live `progress`): it re-runs the checks under the gateway's limits, sends the
report and applies `recheck.decide` (not ready now, or as the next status in a contact; a later
pass only says the agent may go ready). Show `outcome.message(lang)`.
"""
