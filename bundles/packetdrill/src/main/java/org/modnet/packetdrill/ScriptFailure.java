package org.modnet.packetdrill;

/**
 * Ends a run: a failure with packetdrill's message (without the {@code FILE:LINE: } prefix, which the
 * runner adds), or, when {@code skip} is set, a script modnet cannot run and why.
 */
final class ScriptFailure extends Exception {
    private static final long serialVersionUID = 1L;

    final int line;
    final boolean skip;

    ScriptFailure(int line, String message) {
        this(line, message, false);
    }

    ScriptFailure(int line, String message, boolean skip) {
        super(message, null, false, false);
        this.line = line;
        this.skip = skip;
    }

    static ScriptFailure skip(int line, String reason) {
        return new ScriptFailure(line, reason, true);
    }
}
