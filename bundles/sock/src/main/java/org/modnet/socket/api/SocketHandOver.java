package org.modnet.socket.api;

import org.modnet.api.handover.HandsOver;
import org.modnet.api.handover.LayerState;

/**
 * The holder of sockets across a protocol's update, kept by the socket layer, which outlives both
 * versions: the old version {@link #deposit}s its sockets' state in its deactivation (their
 * descriptors are parked meanwhile: a blocking call waits, a non-blocking one gets EAGAIN); the new
 * version {@link #take}s it in its activation and, for each socket it makes, says which old one it
 * replaces ({@link #adopted}), or {@link #refuse}s a state version it cannot read, which closes the
 * parked sockets as an update without hand-over does. @since 1.5
 * <p>
 * Since 1.8 the holder itself may leave for an update (the socket layer's): {@link #handingOver()} is
 * then true, and a protocol whose reference to the holder goes with it hands its sockets over to it as
 * on its own update; the holder's next version has them, and the descriptors.
 */
public interface SocketHandOver extends HandsOver {
    /** The old version's state; replaces an earlier deposit of the same layer that nobody took. */
    void deposit(LayerState state);

    /** The deposit of {@code layer}, removed from the holder; null if none is waiting. */
    LayerState take(String layer);

    /** The new version made {@code now} from the state of the socket {@code id}: its descriptors point at it now. */
    void adopted(long id, Sock now);

    /** Done with a deposit taken: parked sockets of its layer that no new socket adopted are closed. */
    void finished(LayerState state);

    /** The new version cannot read the deposit: its parked sockets are closed, the refusal logged and counted. */
    void refuse(LayerState state, String why);

    /**
     * What a layer hands over beside its sockets' common part (TCP's connections, listeners, TIME-WAIT
     * socks and secrets: {@code org.modnet.api.handover.TcpLayerState}), kept until {@link
     * #takeDetail}; an API record, never an implementation object. @since 1.6
     */
    default void depositDetail(String layer, Record detail) {
        throw new UnsupportedOperationException("this holder keeps no detail");
    }

    /** The detail {@code layer} deposited, removed from the holder; null if none is waiting. @since 1.6 */
    default Record takeDetail(String layer) {
        return null;
    }
}
