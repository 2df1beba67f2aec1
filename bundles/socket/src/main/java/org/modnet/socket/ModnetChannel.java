package org.modnet.socket;

import org.modnet.socket.api.Sock;

/**
 * A channel of {@link ModnetSelectorProvider} that a {@link ModnetSelector} can wait on: the modnet
 * socket under it, and how that socket's poll mask reads as selection operations for this kind of
 * channel ({@code translateReadyOps} of Java's own channels).
 */
interface ModnetChannel {
    /** The socket the selector polls and waits on. */
    Sock sock();

    /** The poll mask as selection operations, limited to {@code interest}. */
    default int readyOps(int mask, int interest) {
        return ModnetSelector.readyOps(mask, interest);
    }
}
