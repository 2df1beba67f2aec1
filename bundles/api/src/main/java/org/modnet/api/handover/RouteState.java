package org.modnet.api.handover;

import org.modnet.api.inet.RouteEntry;

/**
 * A route as IPv4 hands it over: the table it is in ({@code RT_TABLE_MAIN} is 254) and the route
 * itself. Only routes added by hand travel: the kernel's routes are remade from the addresses, which
 * belong to the core's devices and outlive any IPv4 version. @since 1.1
 *
 * @param table the routing table's id, as {@code ip route show table ID} names it
 * @param route the route
 */
public record RouteState(int table, RouteEntry route) {
    /** {@code RT_TABLE_MAIN}: the table {@code ip route} reads and changes by default. */
    public static final int MAIN = 254;
}
