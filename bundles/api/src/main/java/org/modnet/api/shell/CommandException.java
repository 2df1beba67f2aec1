package org.modnet.api.shell;

/**
 * A command failed in the way the Linux tool of the same name fails: the message is printed to
 * standard error as it stands (for example {@code RTNETLINK answers: File exists}), with no Java
 * exception name, and the command's exit status becomes {@link #status()}.
 */
public class CommandException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    private final int status;

    public CommandException(String message) {
        this(message, 1);
    }

    public CommandException(String message, int status) {
        super(message, null, false, false);
        if (status == 0) {
            throw new IllegalArgumentException("a failed command has a non-zero status");
        }
        this.status = status;
    }

    /** The exit status a shell reports for this failure, as the Linux tool would (1, 2, 255, ...). */
    public int status() {
        return status;
    }
}
