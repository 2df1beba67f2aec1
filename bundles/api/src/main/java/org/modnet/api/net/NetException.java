package org.modnet.api.net;

/**
 * A network operation refused, with the errno Linux gives for it. The message is the detail a tool
 * adds ({@code "Error: mtu greater than device maximum."}); {@link #errno()} is what
 * {@code RTNETLINK answers: ...} or {@code sysctl: ...} print.
 */
public class NetException extends Exception {
    private static final long serialVersionUID = 1L;

    private final Errno errno;

    public NetException(Errno errno) {
        this(errno, errno.text());
    }

    public NetException(Errno errno, String message) {
        super(message, null, false, false);
        this.errno = errno;
    }

    public Errno errno() {
        return errno;
    }
}
