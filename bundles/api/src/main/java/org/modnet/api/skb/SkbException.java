package org.modnet.api.skb;

/**
 * A misuse of a packet buffer the kernel would panic on ({@code skb_over_panic},
 * {@code skb_under_panic}, a write to shared data, a double free): a bug in the caller.
 */
public final class SkbException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public SkbException(String message) {
        super(message);
    }
}
