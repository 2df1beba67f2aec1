package org.modnet.packetdrill;

/**
 * How a script ended: {@code pass}, {@code failed} with packetdrill's error line
 * ({@code FILE:LINE: error handling packet: ...}), or {@code skipped} with the reason modnet cannot run
 * it (a feature the runner or the stack does not have), which is neither a pass nor a failure.
 */
public record Outcome(Status status, String message) {
    public enum Status { PASS, FAIL, SKIP }

    static Outcome pass() {
        return new Outcome(Status.PASS, "");
    }

    /** The word packetdrill's run_all.py prints after the script's path. */
    public String word() {
        return switch (status) {
            case PASS -> "pass";
            case FAIL -> "failed";
            case SKIP -> "skipped";
        };
    }
}
