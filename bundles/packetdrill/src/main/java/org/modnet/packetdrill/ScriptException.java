package org.modnet.packetdrill;

/**
 * A script packetdrill refuses before it runs, with packetdrill's own words: {@code FILE:LINE: parse
 * error at 'TOKEN': syntax error}, {@code FILE:LINE: semantic error: MESSAGE}, {@code FILE:LINE: first
 * event should be at time 0}, or {@code FILE: option 'x' unknown} for a bad option. The message is the
 * whole line packetdrill prints; {@link #line()} is 0 when the error belongs to no line.
 */
public final class ScriptException extends Exception {
    private static final long serialVersionUID = 1L;

    private final String path;
    private final int line;
    private final String detail;

    ScriptException(String path, int line, String detail, String message) {
        super(message);
        this.path = path;
        this.line = line;
        this.detail = detail;
    }

    /** {@code FILE:LINE: parse error at 'TOKEN': MESSAGE} (bison's {@code yyerror}). */
    static ScriptException syntax(String path, int line, String tokenText, String message) {
        return new ScriptException(path, line, message,
                path + ":" + line + ": parse error at '" + tokenText + "': " + message);
    }

    /** {@code FILE:LINE: semantic error: MESSAGE} (the parser's checks of a line's meaning). */
    static ScriptException semantic(String path, int line, String message) {
        return new ScriptException(path, line, message, path + ":" + line + ": semantic error: " + message);
    }

    /** {@code FILE:LINE: MESSAGE} (checks of the event list: first event, time going backward). */
    static ScriptException atLine(String path, int line, String message) {
        return new ScriptException(path, line, message, path + ":" + line + ": " + message);
    }

    /** {@code WHERE: MESSAGE} (options: WHERE is the script's path or {@code Command Line}). */
    static ScriptException option(String where, String message) {
        return new ScriptException(where, 0, message, where + ": " + message);
    }

    /** The script's path as the error names it (or {@code Command Line}). */
    public String path() {
        return path;
    }

    /** The script line the error is on, or 0. */
    public int line() {
        return line;
    }

    /** The message without the {@code FILE:LINE:} prefix. */
    public String detail() {
        return detail;
    }
}
