package org.modnet.socket.api;

import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.concurrent.atomic.AtomicReference;

import org.modnet.api.handover.LayerState;
import org.modnet.api.net.NetNamespace;

/**
 * What the socket layer holds, handed from one version to the next on {@code update
 * org.modnet.socket}: the processes (their descriptor tables), the open sockets by namespace and the
 * protocol each belongs to, and the hand-over holder's own tables (sockets parked for a protocol's
 * update, their successors, the protocols' deposits), with the counters and the next pid.
 * <p>
 * Handed over by keeping the objects, not by copying them: every one of them is an API or JDK object
 * (a {@link Sock} is its protocol's, a {@link SocketProcess} the application's), and the new version
 * works on the very maps the old one did, so a call the old version is still finishing (a blocking
 * {@code recv}, an {@code accept}) sees what the new one changes. The old version only stops adding.
 * Kept between the old version's deactivation and the new one's activation by {@link #deposit}, here in
 * the API bundle, which outlives every version of the layer (as {@code net/core/sock.c} is built in).
 * @since 1.8
 *
 * @param version     the layout's version; a reader that does not know it refuses the deposit
 * @param processes   every process the layer served that was not closed
 * @param open        the open sockets by namespace
 * @param owners      each open socket's protocol
 * @param parked      sockets parked for their protocol's update, by inode
 * @param successors  parked socket to the socket that adopted it
 * @param early       adopted sockets whose parked socket no descriptor held yet, by the old inode
 * @param unowned     adopted sockets whose new protocol has not registered yet
 * @param deposits    the protocols' deposits nobody took yet, by layer
 * @param details     what the protocols deposited beside their sockets, by layer
 * @param counters    the hand-over counters by namespace
 * @param pids        the last pid given
 * @param monitor     the object blocking calls on a parked socket wait on, notified at each adoption
 */
public record SocketLayerState(int version, Set<SocketProcess> processes, Map<NetNamespace, Set<Sock>> open,
        Map<Sock, SocketProtocol> owners, Map<Long, Sock> parked, Map<Sock, Sock> successors, Map<Long, Sock> early,
        Set<Sock> unowned, Map<String, LayerState> deposits, Map<String, Record> details,
        Map<NetNamespace, AtomicLongArray> counters, AtomicInteger pids, Object monitor) {

    private static final AtomicReference<SocketLayerState> HELD = new AtomicReference<>();

    /** The old version's state, until the next version {@link #take}s it; replaces an earlier one nobody took. */
    public static void deposit(SocketLayerState state) {
        HELD.set(state);
    }

    /** The deposit, removed; null if none is waiting. */
    public static SocketLayerState take() {
        return HELD.getAndSet(null);
    }
}
