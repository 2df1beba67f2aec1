/**
 * State hand-over on update: what a layer's old bundle version gives its new one, as plain API values
 * (records of ints, strings and bytes, never an implementation class), each deposit carrying the
 * version of its layout so a new version that cannot read it refuses instead of guessing. A holder
 * that outlives both versions keeps a deposit between the old version's deactivation and the new
 * one's activation: {@code org.modnet.socket.api.SocketHandOver} for sockets, {@link
 * org.modnet.api.handover.StateHolder} (the core's) for tables: IPv4's routes and sysctls, ARP's
 * neighbours (1.1: {@code TableState}, {@code NamespaceState}, {@code RouteState}, {@code NeighbourState}); TCP's connections,
 * listeners, TIME-WAIT socks and secrets travel as {@link org.modnet.api.handover.TcpLayerState} (1.2), a
 * connection's SACK scoreboard and recovery state as {@link org.modnet.api.handover.TcpRecoveryState} (1.3),
 * its ECN, path MTU and soft error as {@link org.modnet.api.handover.TcpPathState} and its F-RTO, pacing,
 * chrono and delivery-rate state as {@link org.modnet.api.handover.TcpSenderState} (1.5). The packets a leaving
 * layer held for the layers above it go to its next version through {@code StateHolder.depositHeld} (1.7);
 * connections frozen when the new version first needs them as
 * {@link org.modnet.api.handover.TcpDeferredConnections} (1.7). A socket's {@code IP_RECVERR} travels in its
 * {@link org.modnet.api.handover.SockOptions} (1.8). The rest of the RTT estimator ({@code mdev_us},
 * {@code mdev_max_us}, {@code rtt_seq}) and of the delayed-ACK state ({@code ato}, {@code ICSK_ACK_PUSHED},
 * {@code last_seg_size}) travel in {@link org.modnet.api.handover.TcpEstimator} (1.9). A version that hands over
 * while its bundle is still active, started beside its next version in standby, is a
 * {@link org.modnet.api.handover.LiveHandOver} (1.10). TCP's connections left in the old version's own tables, looked
 * up by 4-tuple when the new version first needs each, as {@link org.modnet.api.handover.TcpConnectionsInPlace} (1.11).
 * A socket's {@code SO_PRIORITY}, {@code SO_MARK}, {@code IP_RECVTTL}, busy-polling and pacing options travel in its
 * {@link org.modnet.api.handover.SockOptions} too, its error queue as {@link org.modnet.api.handover.QueuedError}s (1.12).
 * The new version says when it is done with the old version's tables ({@code TcpConnectionsInPlace.Table.release}), and
 * the old version's stop waits for that: its classes are not in use once its bundle has stopped (1.13).
 */
@Export
@Version("1.13.0")
package org.modnet.api.handover;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
