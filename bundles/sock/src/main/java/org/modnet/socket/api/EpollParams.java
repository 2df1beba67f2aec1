package org.modnet.socket.api;

/**
 * An epoll instance's busy polling, {@code struct epoll_params} as the {@code EPIOCSPARAMS} and
 * {@code EPIOCGPARAMS} ioctls (Linux 6.9) set and read it. modnet's NIO {@code Selector} is an epoll
 * instance and implements this: an application casts its selector, as a C program calls
 * {@code ioctl(epfd, EPIOCSPARAMS, &params)}. Until set, the instance busy polls for
 * {@code net.core.busy_poll} microseconds (0: not at all), {@code BUSY_POLL_BUDGET} frames a poll,
 * not preferred. @since 1.16
 */
public interface EpollParams {
    /** {@code NAPI_POLL_WEIGHT}: a budget above it needs {@code CAP_NET_ADMIN}, which modnet's processes have. */
    int NAPI_POLL_WEIGHT = 64;

    /**
     * {@code EPIOCSPARAMS}: microseconds to busy poll before sleeping (0: {@code net.core.busy_poll}
     * decides), frames a poll (0: 8), and whether the poll is preferred (the device's interrupt kept off
     * between polls, as {@code SO_PREFER_BUSY_POLL}).
     *
     * @throws SockException EINVAL for microseconds outside 0..{@code S32_MAX}, a budget outside a
     *         u16, or {@code preferBusyPoll} other than 0 or 1
     */
    void setEpollParams(long busyPollUsecs, int busyPollBudget, int preferBusyPoll) throws SockException;

    /** {@code EPIOCGPARAMS}'s {@code busy_poll_usecs}. */
    long busyPollUsecs();

    /** {@code EPIOCGPARAMS}'s {@code busy_poll_budget}. */
    int busyPollBudget();

    /** {@code EPIOCGPARAMS}'s {@code prefer_busy_poll}. */
    boolean preferBusyPoll();
}
