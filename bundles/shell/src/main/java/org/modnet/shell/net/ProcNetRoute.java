package org.modnet.shell.net;

import java.util.ArrayList;
import java.util.List;

import org.modnet.api.inet.RouteEntry;
import org.modnet.api.inet.RouteTable;
import org.modnet.api.net.NetNamespace;
import org.modnet.api.shell.ProcFile;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;

/**
 * {@code /proc/net/route} as {@code fib_route_seq_show} prints the main table: addresses as the
 * kernel's 32-bit words in hex (network order read on a little-endian machine), the route flags
 * ({@code RTF_UP}, {@code RTF_GATEWAY}, {@code RTF_HOST}, {@code RTF_REJECT} for unreachable and
 * prohibit), every line padded to 127 characters.
 */
@Component(service = ProcFile.class, immediate = true, property = ProcFile.PATH + "=/proc/net/route")
public final class ProcNetRoute implements ProcFile {
    static final String HEADER = "Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT";
    static final int RTF_UP = 0x1;
    static final int RTF_GATEWAY = 0x2;
    static final int RTF_HOST = 0x4;
    static final int RTF_REJECT = 0x200;

    private final RouteTable routes;

    @Activate
    public ProcNetRoute(@Reference RouteTable routes) {
        this.routes = routes;
    }

    @Override
    public List<String> read(NetNamespace ns) {
        return lines(LocalTable.main(routes.routes(ns))); // the main table, as Linux's file: not the loopback prefix
    }

    static List<String> lines(List<RouteEntry> entries) {
        List<String> out = new ArrayList<>();
        out.add(pad(HEADER));
        for (RouteEntry r : entries) {
            int mask = r.len() == 0 ? 0 : -1 << (32 - r.len());
            int flags = RTF_UP;
            if (r.type().equals("unreachable") || r.type().equals("prohibit")) {
                flags |= RTF_REJECT;
            }
            if (r.gateway() != 0) {
                flags |= RTF_GATEWAY;
            }
            if (r.len() == 32) {
                flags |= RTF_HOST;
            }
            String dev = r.dev() == null ? "*" : r.dev().name();
            out.add(pad(String.format("%s\t%08X\t%08X\t%04X\t%d\t%d\t%d\t%08X\t%d\t%d\t%d", dev, Integer.reverseBytes(r.prefix() & mask),
                    Integer.reverseBytes(r.gateway()), flags, 0, 0, r.metric(), Integer.reverseBytes(mask), 0, 0, 0)));
        }
        return out;
    }

    /** {@code seq_pad}: spaces up to 127 characters. */
    private static String pad(String line) {
        return line.length() >= 127 ? line : line + " ".repeat(127 - line.length());
    }
}
