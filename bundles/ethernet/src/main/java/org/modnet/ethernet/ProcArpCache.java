package org.modnet.ethernet;

import java.util.List;
import java.util.Map;

import org.modnet.api.inet.NeighbourTable;
import org.modnet.api.net.NetNamespace;
import org.modnet.api.shell.ProcFile;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;

/**
 * {@code /proc/net/stat/arp_cache} ({@code neigh_stat_seq_show}): the ARP table's size and statistics
 * in hex under Linux's titles. Linux prints a row per CPU; modnet's counters are the namespace's
 * totals, so there is one row. Counters modnet does not keep (hash grows, garbage-collector runs) read 0.
 */
@Component(service = ProcFile.class, immediate = true, property = ProcFile.PATH + "=/proc/net/stat/arp_cache")
public final class ProcArpCache implements ProcFile {
    private static final String TITLES = "entries  allocs   destroys hash_grows lookups  hits     res_failed "
            + "rcv_probes_mcast rcv_probes_ucast periodic_gc_runs forced_gc_runs unresolved_discards table_fulls";

    private final NeighbourTable table;

    @Activate
    public ProcArpCache(@Reference NeighbourTable table) {
        this.table = table;
    }

    @Override
    public List<String> read(NetNamespace ns) {
        Map<String, Long> s = table.stats(ns);
        return List.of(TITLES, String.format("%08x %08x %08x %08x   %08x %08x %08x   %08x         %08x         "
                + "%08x         %08x       %08x            %08x", v(s, "entries"), v(s, "allocs"), v(s, "destroys"),
                v(s, "hash_grows"), v(s, "lookups"), v(s, "hits"), v(s, "res_failed"), v(s, "rcv_probes_mcast"),
                v(s, "rcv_probes_ucast"), v(s, "periodic_gc_runs"), v(s, "forced_gc_runs"), v(s, "unresolved_discards"),
                v(s, "table_fulls")));
    }

    private static long v(Map<String, Long> stats, String name) {
        return stats.getOrDefault(name, 0L);
    }
}
