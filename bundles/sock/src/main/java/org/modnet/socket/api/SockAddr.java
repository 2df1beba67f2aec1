package org.modnet.socket.api;

import java.net.InetSocketAddress;

import org.modnet.api.inet.Ipv4Addresses;

/**
 * {@code struct sockaddr_in}: an IPv4 address and a port, both host order (the address as an int:
 * 10.0.0.1 is 0x0a000001). {@link #ANY} is 0.0.0.0:0.
 */
public record SockAddr(int address, int port) {
    public static final SockAddr ANY = new SockAddr(0, 0);

    /**
     * From a dotted quad and a port; null when either is not one (what {@code inet_pton} refuses, or a
     * port outside 0..65535).
     */
    public static SockAddr of(String address, int port) {
        long a = Ipv4Addresses.parse(address);
        if (a < 0 || port < 0 || port > 65535) {
            return null;
        }
        return new SockAddr((int) a, port);
    }

    /** From Java's form; null for an unresolved name or an address that is not IPv4. */
    public static SockAddr of(java.net.SocketAddress address) {
        if (address instanceof InetSocketAddress isa && isa.getAddress() instanceof java.net.Inet4Address a) {
            return new SockAddr(Ipv4Addresses.toInt(a), isa.getPort());
        }
        return null;
    }

    public InetSocketAddress toInetSocketAddress() {
        byte[] b = { (byte) (address >>> 24), (byte) (address >>> 16), (byte) (address >>> 8), (byte) address };
        try {
            return new InetSocketAddress(java.net.InetAddress.getByAddress(b), port);
        } catch (java.net.UnknownHostException e) {
            throw new AssertionError(e); // four bytes are always an address
        }
    }

    /** {@code 10.0.0.1:53}. */
    @Override
    public String toString() {
        return Ipv4Addresses.format(address) + ":" + port;
    }
}
