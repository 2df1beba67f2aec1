package org.modnet.api.handover;

/**
 * The delivery-rate sampler ({@code tcp_rate.c}, 1.5): {@code delivered_mstamp}, {@code first_tx_mstamp}
 * and {@code app_limited}; the last sample {@code TCP_INFO} reports ({@code rate_delivered}, {@code
 * rate_interval_us}, {@code rate_app_limited}); and what each segment in flight remembered when it went
 * out ({@code tx.delivered}, {@code tx.delivered_mstamp}, {@code tx.first_tx_mstamp}, {@code
 * tx.is_app_limited}), one entry per segment in the order of {@link TcpRecoveryState}'s scoreboard. Times
 * are µs of the core's clock, which outlives both versions.
 * @since 1.5
 */
public record TcpRateState(long deliveredMstampUs, long firstTxMstampUs, int appLimited, int rateDelivered,
        long rateIntervalUs, boolean rateAppLimited, int[] segmentDelivered, long[] segmentDeliveredUs,
        long[] segmentFirstTxUs, boolean[] segmentAppLimited) {
    public TcpRateState {
        int n = segmentDelivered.length;
        if (segmentDeliveredUs.length != n || segmentFirstTxUs.length != n || segmentAppLimited.length != n) {
            throw new IllegalArgumentException("per-segment rate arrays differ in length: " + n + ", "
                    + segmentDeliveredUs.length + ", " + segmentFirstTxUs.length + ", " + segmentAppLimited.length);
        }
    }
}
