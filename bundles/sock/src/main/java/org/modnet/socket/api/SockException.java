package org.modnet.socket.api;

import java.util.EnumMap;

import org.modnet.api.net.Errno;

/**
 * An errno from a socket operation, as the system call would return it. Instances carry no stack
 * trace and are shared per errno, so the data path may throw them at no cost.
 */
public final class SockException extends Exception {
    private static final long serialVersionUID = 1L;
    private static final EnumMap<Errno, SockException> SHARED = new EnumMap<>(Errno.class);

    static {
        for (Errno e : Errno.values()) {
            SHARED.put(e, new SockException(e));
        }
    }

    private final transient Errno errno;

    private SockException(Errno errno) {
        super(errno.text(), null, false, false);
        this.errno = errno;
    }

    public static SockException of(Errno errno) {
        return SHARED.get(errno);
    }

    public Errno errno() {
        return errno;
    }
}
