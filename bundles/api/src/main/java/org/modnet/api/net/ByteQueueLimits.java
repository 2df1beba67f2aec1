package org.modnet.api.net;

/**
 * A transmit queue's byte queue limits as {@code /sys/class/net/DEV/queues/tx-N/byte_queue_limits/}
 * shows them: the dynamic limit in bytes, its bounds, the hold time in milliseconds and the bytes
 * handed to the driver and not yet completed.
 *
 * @since 1.9
 */
public record ByteQueueLimits(long limit, long limitMax, long limitMin, long holdTimeMs, long inflight) {
}
