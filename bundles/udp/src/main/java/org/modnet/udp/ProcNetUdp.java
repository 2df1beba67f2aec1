package org.modnet.udp;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;

import org.modnet.api.net.NetNamespace;
import org.modnet.api.shell.ProcFile;
import org.modnet.socket.api.SockAddr;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;

/**
 * {@code /proc/net/udp} ({@code udp4_seq_show}): one line per bound socket, by hash slot — the slot,
 * addresses as the {@code __be32} read as a little-endian word, ports in host order, the state (07
 * unconnected, 01 connected), the bytes queued to send and to read, no timer, uid 0, the inode, the
 * references, the socket's address (zeros, as {@code %pK} prints it for a reader without
 * {@code CAP_SYSLOG}) and the drops; every line padded to 127 columns.
 */
@Component(service = ProcFile.class, immediate = true, property = ProcFile.PATH + "=/proc/net/udp")
public final class ProcNetUdp implements ProcFile {
    static final String HEADER = "   sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode ref pointer drops";

    private final UdpProtocol udp;

    @Activate
    public ProcNetUdp(@Reference UdpProtocol udp) {
        this.udp = udp;
    }

    @Override
    public List<String> read(NetNamespace ns) {
        UdpNet net = udp.net(ns);
        List<String> out = new ArrayList<>();
        out.add(pad(HEADER));
        if (net == null) {
            return out;
        }
        List<UdpSock> bound = new ArrayList<>();
        for (UdpSock sk : net.sockets()) {
            if (sk.localAddress() != null && sk.localAddress().port() != 0 && !sk.isClosed()) {
                bound.add(sk); // hashed: what udp_get_first walks
            }
        }
        bound.sort(Comparator.comparingInt((UdpSock sk) -> UdpNet.slot(sk.localAddress().port())));
        for (UdpSock sk : bound) {
            out.add(pad(line(sk)));
        }
        return out;
    }

    static String line(UdpSock sk) {
        SockAddr l = sk.localAddress();
        SockAddr r = sk.remoteAddress();
        int raddr = r == null ? 0 : r.address();
        int rport = r == null ? 0 : r.port();
        return String.format(Locale.ROOT, "%5d: %08X:%04X %08X:%04X %02X %08X:%08X %02X:%08X %08X %5d %8d %d %d %s %d",
                UdpNet.slot(l.port()), Integer.reverseBytes(l.address()), l.port(), Integer.reverseBytes(raddr), rport, sk.state(),
                sk.sendQueue(), sk.recvQueue(), 0, 0, 0, 0, 0, sk.inode(), 2, "0000000000000000", sk.drops());
    }

    private static String pad(String line) {
        return line.length() >= 127 ? line : line + " ".repeat(127 - line.length());
    }
}
