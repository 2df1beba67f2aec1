/**
 * TCP's congestion control as services ({@code include/net/tcp.h}'s {@code struct tcp_congestion_ops},
 * {@code net/ipv4/tcp_cong.c}): an algorithm is a {@link TcpCongestionOps} DS service named by its
 * {@link TcpCongestionOps#NAME} property; TCP finds it by {@code net.ipv4.tcp_congestion_control} or a
 * socket's {@code TCP_CONGESTION}, and drives it through a connection's {@link TcpCongestionState}.
 * Reno is built into TCP and is the fallback when an algorithm goes away. 1.2 adds the delivery-rate
 * sample ({@link TcpRateSample}) and pacing ({@link TcpCongestionState#pacingRate(long)}) that BBR runs on;
 * 1.3 adds {@link TcpCongestionOps#minTsoSegs}, the algorithm's floor for TSO autosizing.
 */
@Export
@Version("1.4.0")
package org.modnet.api.tcp;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
