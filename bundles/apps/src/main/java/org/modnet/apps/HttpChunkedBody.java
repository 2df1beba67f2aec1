package org.modnet.apps;

/**
 * A chunked request body (RFC 9112 7.1) read and dropped as it arrives: the chunk sizes in hex with
 * their extensions, the data, the CRLF after it, the last chunk and the trailer fields to the empty
 * line. httpd serves files and takes no body, but a body it did not read would be parsed as the next
 * request on a keep-alive connection. Bounded: at most {@code limit} bytes of data (more is 413, as
 * nginx's client_max_body_size refuses "a too large chunked body"), a size or trailer line of at most
 * {@link HttpRequest#LIMIT_REQUEST_FIELD_SIZE} bytes and a size of at most 15 hex digits (else 400).
 */
final class HttpChunkedBody {
    private enum State { SIZE, EXT, DATA, DATA_CR, DATA_LF, TRAILER }

    private final long limit;
    private State state = State.SIZE;
    private long size;
    private int digits;
    private long left;
    private long total;
    private int lineLen;
    private boolean done;
    private int status;

    HttpChunkedBody(long limit) {
        this.limit = limit;
    }

    /** The whole body, through the trailer's empty line, has been read. */
    boolean done() {
        return done;
    }

    /** 0, or the status the body earned: 400 malformed, 413 over the limit. */
    int status() {
        return status;
    }

    /** The data bytes so far, without the framing. */
    long total() {
        return total;
    }

    /** Takes what it can of {@code b[off, off+len)}; returns how many bytes it took (fewer once done or refused). */
    int consume(byte[] b, int off, int len) {
        int p = off;
        int end = off + len;
        while (p < end && !done && status == 0) {
            byte c = b[p];
            switch (state) {
                case SIZE -> {
                    int d = Character.digit(c, 16);
                    if (d >= 0) {
                        if (++digits > 15) {
                            return fail(400);
                        }
                        size = size * 16 + d;
                        p++;
                    } else if (digits == 0) {
                        return fail(400);
                    } else {
                        state = State.EXT; // ';' extensions, blanks, the CR: all up to the LF
                        lineLen = 0;
                    }
                }
                case EXT -> {
                    p++;
                    if (c == '\n') {
                        if (size == 0) {
                            state = State.TRAILER;
                            lineLen = 0;
                        } else {
                            if (total + size > limit) {
                                return fail(413);
                            }
                            left = size;
                            state = State.DATA;
                        }
                        size = 0;
                        digits = 0;
                    } else if (++lineLen > HttpRequest.LIMIT_REQUEST_FIELD_SIZE) {
                        return fail(400);
                    }
                }
                case DATA -> {
                    int n = (int) Math.min(left, end - p);
                    p += n;
                    left -= n;
                    total += n;
                    if (left == 0) {
                        state = State.DATA_CR;
                    }
                }
                case DATA_CR -> {
                    p++;
                    if (c == '\n') {
                        state = State.SIZE; // a bare LF, as the head's lines may end
                    } else if (c == '\r') {
                        state = State.DATA_LF;
                    } else {
                        return fail(400);
                    }
                }
                case DATA_LF -> {
                    p++;
                    if (c != '\n') {
                        return fail(400);
                    }
                    state = State.SIZE;
                }
                case TRAILER -> {
                    p++;
                    if (c == '\n') {
                        if (lineLen == 0) {
                            done = true;
                        }
                        lineLen = 0;
                    } else if (c != '\r' || lineLen > 0) {
                        if (++lineLen > HttpRequest.LIMIT_REQUEST_FIELD_SIZE) {
                            return fail(400);
                        }
                    }
                }
            }
        }
        return p - off;
    }

    private int fail(int s) {
        status = s;
        return 0; // the connection closes: what was taken does not matter
    }
}
