package org.modnet.api.skb;

/**
 * Whoever accounts for a buffer while it lives, as a socket does ({@code skb->sk} with
 * {@code sock_wfree}/{@code sock_rfree} as destructor): told once, when the buffer is freed.
 */
@FunctionalInterface
public interface SkbOwner {
    void release(SkBuff skb);
}
