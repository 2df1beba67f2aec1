package org.modnet.socket.api;

/**
 * {@code struct sock_extended_err} and its offender ({@code SO_EE_OFFENDER}), as {@code recvmsg} with
 * {@code MSG_ERRQUEUE} returns them in the {@code IP_RECVERR} control message: the errno, where the
 * error came from ({@link #SO_EE_ORIGIN_ICMP}), the ICMP type and code, {@code ee_info} (the next-hop
 * MTU of "fragmentation needed") and the address of the host that sent the ICMP message.
 *
 * @since 1.12
 */
public record SockExtendedErr(int errno, int origin, int type, int code, int info, int data, int offender) {
    /** {@code SO_EE_ORIGIN_NONE}. */
    public static final int SO_EE_ORIGIN_NONE = 0;
    /** {@code SO_EE_ORIGIN_LOCAL}: the error was found on this host. */
    public static final int SO_EE_ORIGIN_LOCAL = 1;
    /** {@code SO_EE_ORIGIN_ICMP}: an ICMP message reported it. */
    public static final int SO_EE_ORIGIN_ICMP = 2;
}
