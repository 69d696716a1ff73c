"""The words of the result and of the child's channel: event kinds, outcomes, statuses, flag kinds.

One module of constants so that no two places spell a kind differently. Plain `str` constants
(not enum members): they travel through JSON and pipes as they are, and candidate-facing text
never shows `Flag.X`.
"""


class Event:
    """Kinds of event on the nonce-stamped channel from the grading child (isolation.protocol)."""
    SESSION = "session"            # the child is alive and read its configuration
    ENV = "env"                    # versions, device, threads: the result's `environment`
    COLLECTED = "collected"        # the hidden checks pytest collected (ids, names, weights)
    COLLECT_ERROR = "collect-error"
    START = "start"                # a check started (the parent then knows what was running)
    RESULT = "result"              # a check's outcome and message
    FLAG = "flag"                  # something for the interviewer (Flag below)
    TIMING = "timing"              # the timing rows
    TIMING_ERROR = "timing-error"
    CRASH = "crash"
    DONE = "done"                  # the session ended normally


class Outcome:
    PASSED, FAILED, ERROR, TIMEOUT, SKIPPED = "passed", "failed", "error", "timeout", "skipped"
    ALL = (PASSED, FAILED, ERROR, TIMEOUT, SKIPPED)
    REPORTED = (PASSED, FAILED, ERROR, SKIPPED)   # what a child may report for a check


class Status:
    """Of one exercise in a result."""
    GRADED, MISSING, ERROR, TIMEOUT = "graded", "missing", "error", "timeout"
    ALL = (GRADED, MISSING, ERROR, TIMEOUT)


class Flag:
    """Kinds of flag on an exercise. Which of them zero it is engine.scoring's rule."""
    FORBIDDEN_API = "forbidden-api"          # a forbidden function was called (runtime guard) or named
    GRADER_IMPORT = "grader-import"          # candidate code imported the grader or the answers (run time)
    FORBIDDEN_MENTION = "forbidden-mention"  # the static pass saw a forbidden name; nothing ran it
    GRADER_MENTION = "grader-mention"        # the static pass saw the grader or answers named
    RESULT_FORGERY = "result-forgery"        # unauthenticated or duplicate lines on the channel
    TAMPERING = "tampering"                  # candidate code changed what the checks rely on
    NATIVE_CODE = "native-code"              # candidate code tried to load or run native code
    FILE_ACCESS = "file-access"
    NETWORK = "network"
    SUBPROCESS = "subprocess"
    DYNAMIC_CODE = "dynamic-code"
    INTROSPECTION = "introspection"
    THREADS = "threads"
    MONKEYPATCH = "monkeypatch"
    GUARD_EVASION = "guard-evasion"
    PROCESS_EXIT = "process-exit"
    SANDBOX = "sandbox"                      # a note about the sandbox itself (uid switch failed)
    SANDBOX_DENIED = "sandbox-denied"        # the audit hook refused something
    SUSPICIOUS_SPEEDUP = "suspicious-speedup"
    SKIPPED = "skipped"                      # the exercise could not be graded here (a note)
    CRASH = "crash"
    CHECKS_ERROR = "checks-error"            # the hidden checks themselves failed to collect
    GRADER_ERROR = "grader-error"
    REJECTED = "rejected-submission"
    # Flags whose detail is about the candidate's own code or process, safe to show a candidate.
    CANDIDATE_DETAIL = frozenset({FORBIDDEN_API, GRADER_IMPORT, FORBIDDEN_MENTION, GRADER_MENTION,
                                  FILE_ACCESS, NETWORK, SUBPROCESS,
                                  DYNAMIC_CODE, INTROSPECTION, SKIPPED, CRASH, RESULT_FORGERY,
                                  REJECTED})


class TimeBox:
    """Kinds of flag on a time-boxed submission's log (the result's `timeline.flags`). They are
    for the interviewer to weigh: none of them changes a score."""
    NO_LOG = "timebox-no-log"            # the submission holds no log (or no readable one)
    CHAIN = "timebox-chain"              # a line edited, removed or reordered: the chain breaks
    TRUNCATED = "timebox-truncated"      # the log was cut short (a partial line, fewer entries)
    CLOCK = "timebox-clock"              # times go backwards, or lie before the kit or ahead
    OVERRUN = "timebox-overrun"          # the last run came after the box ended
    FILES = "timebox-files"              # the submitted files are not those the last run saw
    KIT = "timebox-kit"                  # the log or the box does not belong to this kit
    # What makes the chain itself untrustworthy (the report then says "broken").
    BREAKS_CHAIN = frozenset({CHAIN, TRUNCATED, KIT})


SPEED_CHECK = "timing::speed"    # the id of the speed check an exercise with timing gets
