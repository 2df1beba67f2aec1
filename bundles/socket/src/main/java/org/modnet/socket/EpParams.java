package org.modnet.socket;

import org.modnet.api.net.Errno;
import org.modnet.api.net.IntSysctl;
import org.modnet.socket.api.SockException;

/**
 * An epoll instance's own busy polling, as {@code EPIOCSPARAMS} sets it ({@code ep->busy_poll_usecs},
 * {@code ep->busy_poll_budget}, {@code ep->prefer_busy_poll}): modnet's epoll's and its NIO selector's.
 */
final class EpParams implements org.modnet.socket.api.EpollParams {
    private volatile long usecs;
    private volatile int budget;
    private volatile boolean prefer;

    @Override
    public void setEpollParams(long busyPollUsecs, int busyPollBudget, int preferBusyPoll) throws SockException {
        // ep_eventpoll_bp_ioctl's checks (a budget above NAPI_POLL_WEIGHT needs CAP_NET_ADMIN, which modnet's processes have)
        if (busyPollUsecs < 0 || busyPollUsecs > Integer.MAX_VALUE || busyPollBudget < 0 || busyPollBudget > 0xffff
                || preferBusyPoll < 0 || preferBusyPoll > 1) {
            throw SockException.of(Errno.EINVAL);
        }
        usecs = busyPollUsecs;
        budget = busyPollBudget;
        prefer = preferBusyPoll == 1;
    }

    @Override
    public long busyPollUsecs() {
        return usecs;
    }

    @Override
    public int busyPollBudget() {
        return budget;
    }

    @Override
    public boolean preferBusyPoll() {
        return prefer;
    }

    /** {@code ep_busy_loop_timeout}: the instance's own microseconds, else {@code net.core.busy_poll}'s; 0 or less: none. */
    long usecs(IntSysctl busyPoll) {
        long u = usecs;
        return u != 0 ? u : busyPoll.get();
    }
}
