package org.modnet.api.net;

/** What a driver's transmit says, as {@code netdev_tx_t}. */
public enum TxResult {
    /** The driver took the skb (sent, queued in its ring, or dropped and counted). */
    OK,
    /** The driver's ring is full: the skb stays with the caller, which requeues it. */
    BUSY
}
