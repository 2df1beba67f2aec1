package org.modnet.ipset;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

import org.apache.felix.service.command.CommandSession;
import org.modnet.api.net.NetCore;
import org.modnet.api.net.NetNamespace;
import org.modnet.api.net.PernetOperations;
import org.modnet.api.netfilter.IpSet;
import org.modnet.api.netfilter.IpSets;
import org.modnet.api.shell.Commands;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;

/**
 * ip_set_core: every namespace's sets ({@code ip_set_net}), the {@code ipset} command, and the
 * {@link IpSets} service through which iptables' {@code -m set} and {@code SET} target find a set by name
 * and say how many rules refer to it. A namespace's sets go with it.
 */
@Component(service = { IpSets.class, IpsetComponent.class, PernetOperations.class }, immediate = true, property = {
        "osgi.command.scope=" + Commands.SCOPE, "osgi.command.function=ipset", PernetOperations.ORDER + ":Integer=38" })
public final class IpsetComponent implements IpSets, PernetOperations {
    private final NetCore core;
    private final Map<NetNamespace, Ipset> nets = new ConcurrentHashMap<>();

    @Activate
    public IpsetComponent(@Reference NetCore core) {
        this.core = core;
    }

    Ipset net(NetNamespace ns) {
        return nets.computeIfAbsent(ns, n -> new Ipset(core != null ? core::nanoTime : System::nanoTime));
    }

    @Override
    public IpSet set(NetNamespace ns, String name) {
        return net(ns).set(name);
    }

    @Override
    public void references(NetNamespace ns, String owner, Map<String, Integer> counts) {
        net(ns).references(owner, counts);
    }

    /** ipset in {@code ns} without a shell: its output lines, or a CommandException in its words. */
    public List<String> run(NetNamespace ns, List<String> stdin, String... args) {
        return net(ns).run(List.of(args), stdin);
    }

    public void ipset(CommandSession session, String... args) throws IOException {
        args = Commands.words(session, args);
        Object netns = session != null ? session.get(Commands.NETNS) : null;
        NetNamespace ns = Commands.namespace(core, netns, "ipset");
        List<String> stdin = List.of();
        if (List.of(args).contains("restore") || List.of(args).contains("-R")) {
            stdin = new ArrayList<>();
            BufferedReader r = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
            for (String l; (l = r.readLine()) != null;) {
                stdin.add(l);
            }
        }
        for (String l : run(ns, stdin, args)) {
            System.out.println(l);
        }
    }

    @Override
    public void init(NetNamespace ns) {
        // a namespace's sets are made by its first ipset command
    }

    @Override
    public void exit(NetNamespace ns) {
        nets.remove(ns);
    }
}
