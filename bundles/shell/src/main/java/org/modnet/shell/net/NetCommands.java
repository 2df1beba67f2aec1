package org.modnet.shell.net;

import java.util.Arrays;
import java.util.Collection;
import java.util.List;

import org.apache.felix.service.command.CommandSession;
import org.modnet.api.net.Errno;
import org.modnet.api.net.LinkFactory;
import org.modnet.api.net.NetCore;
import org.modnet.api.net.NetDevice;
import org.modnet.api.net.NetException;
import org.modnet.api.net.NetNamespace;
import org.modnet.api.shell.Commands;
import org.osgi.framework.BundleContext;
import org.osgi.framework.InvalidSyntaxException;
import org.osgi.framework.ServiceReference;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.annotations.ReferenceCardinality;
import org.osgi.service.component.annotations.ReferencePolicy;

/**
 * The Linux network commands: {@code ip}, {@code sysctl}, {@code ethtool}, and {@code cat} and
 * {@code ls} of the /proc and /sys files. They stay registered when the core is not running, and say so when used, rather than
 * vanishing into "command not found".
 */
@Component(service = NetCommands.class, immediate = true, property = { "osgi.command.scope=" + Commands.SCOPE,
        "osgi.command.function=ip", "osgi.command.function=sysctl", "osgi.command.function=ethtool",
        "osgi.command.function=cat", "osgi.command.function=ls", "osgi.command.function=tee",
        "osgi.command.function=ynl" })
public final class NetCommands {
    private final BundleContext context;

    @Reference(policy = ReferencePolicy.DYNAMIC, cardinality = ReferenceCardinality.OPTIONAL)
    private volatile NetCore core;

    @Reference(policy = ReferencePolicy.DYNAMIC, cardinality = ReferenceCardinality.OPTIONAL)
    private volatile org.modnet.api.inet.RouteTable routes;

    @Reference(policy = ReferencePolicy.DYNAMIC, cardinality = ReferenceCardinality.OPTIONAL)
    private volatile org.modnet.api.inet.NeighbourTable neighbours;

    @Reference(policy = ReferencePolicy.DYNAMIC, cardinality = ReferenceCardinality.OPTIONAL)
    private volatile org.modnet.api.net.XdpLoader xdpLoader;

    @Activate
    public NetCommands(BundleContext context) {
        this.context = context;
    }

    /** {@code ip [-s] [-d] [-o] [-br] [-n NS] link|address|route|neigh|netns ...}. */
    public void ip(CommandSession session, String... args) {
        new IpCommand(invocation(session)).run(words(session, args));
    }

    /** {@code sysctl [-n] [-N] [-q] [-e] [-w] [-a] NAME[=VALUE]...}. */
    public void sysctl(CommandSession session, String... args) {
        new SysctlCommand(invocation(session)).run(words(session, args));
    }

    /** {@code ethtool [-i|-g|-G|-k|-K|-S|-l|-L|-c|-C|-a|-A] DEV [ARGS]}. */
    public void ethtool(CommandSession session, String... args) {
        new EthtoolCommand(invocation(session)).run(words(session, args));
    }

    /** {@code cat /proc/net/dev | /proc/net/softnet_stat | /proc/sys/net/...}. */
    public void cat(CommandSession session, String... args) {
        new CatCommand(invocation(session)).run(words(session, args));
    }

    /** {@code tee [-a] FILE...}: standard input to standard output and to modnet's writable sysfs attributes. */
    public void tee(CommandSession session, String... args) {
        new TeeCommand(invocation(session)).run(words(session, args));
    }

    /** {@code ynl --family netdev --do napi-get|napi-set --json JSON}, {@code --dump napi-get}: the netdev netlink family's NAPI settings. */
    public void ynl(CommandSession session, String... args) {
        new YnlCommand(invocation(session)).run(words(session, args));
    }

    /** {@code ls [-1] [PATH...]}: modnet's /proc and /sys views, the host's files elsewhere. */
    public void ls(CommandSession session, String... args) {
        new LsCommand(invocation(session)).run(words(session, args));
    }

    private Invocation invocation(CommandSession session) {
        if (session == null) { // Gogo bound a lone null word to it: words(session, args) gives that word back
            session = org.apache.felix.service.command.Job.Utils.current().session();
        }
        return new Invocation(core, session, System.out, System.err, this::linkFactory, routes, neighbours, new Invocation.ProcFiles() {
            @Override
            public List<String> read(String path, org.modnet.api.net.NetNamespace ns) {
                return procFile(path, ns);
            }

            @Override
            public Collection<String> paths() {
                return procPaths();
            }
        }, xdpLoader);
    }

    private static List<String> words(CommandSession session, String[] args) {
        return Arrays.asList(Commands.words(session, args));
    }

    /**
     * The {@link LinkFactory} service of that kind, held only while it creates: the returned factory
     * releases the service after {@code create}.
     */
    private LinkFactory linkFactory(String kind) {
        Collection<ServiceReference<LinkFactory>> refs;
        try {
            refs = context.getServiceReferences(LinkFactory.class, "(" + LinkFactory.KIND + "=" + escape(kind) + ")");
        } catch (InvalidSyntaxException e) {
            return null;
        }
        ServiceReference<LinkFactory> best = refs.stream().max(ServiceReference::compareTo).orElse(null);
        if (best == null) {
            return null;
        }
        return new LinkFactory() {
            @Override
            public NetDevice create(NetNamespace ns, String name, List<String> args) throws NetException {
                return create(ns, name, args, 0, 0);
            }

            /** The queue counts given before {@code type} go through to the driver (rtnl_create_link). */
            @Override
            public NetDevice create(NetNamespace ns, String name, List<String> args, int numTxQueues, int numRxQueues)
                    throws NetException {
                LinkFactory factory = context.getService(best);
                if (factory == null) {
                    throw new NetException(Errno.EOPNOTSUPP, "Unknown device type");
                }
                try {
                    return factory.create(ns, name, args, numTxQueues, numRxQueues);
                } finally {
                    context.ungetService(best);
                }
            }
        };
    }

    /** The paths every {@link org.modnet.api.shell.ProcFile} service registered. */
    private Collection<String> procPaths() {
        java.util.Set<String> paths = new java.util.TreeSet<>();
        try {
            for (ServiceReference<org.modnet.api.shell.ProcFile> ref : context.getServiceReferences(org.modnet.api.shell.ProcFile.class, null)) {
                Object path = ref.getProperty(org.modnet.api.shell.ProcFile.PATH);
                if (path instanceof String s) {
                    paths.add(s);
                } else if (path instanceof String[] many) {
                    paths.addAll(Arrays.asList(many));
                }
            }
        } catch (InvalidSyntaxException e) {
            throw new IllegalStateException(e); // a null filter has no syntax to get wrong
        }
        return paths;
    }

    /** The lines of a /proc file another layer registered ({@link org.modnet.api.shell.ProcFile}), or null. */
    private List<String> procFile(String path, org.modnet.api.net.NetNamespace ns) {
        return procFile(context, path, ns);
    }

    /** The lines of {@code path} from the best-ranked {@link org.modnet.api.shell.ProcFile} service that has it, or null. */
    public static List<String> procFile(BundleContext context, String path, org.modnet.api.net.NetNamespace ns) {
        Collection<ServiceReference<org.modnet.api.shell.ProcFile>> refs;
        try {
            refs = context.getServiceReferences(org.modnet.api.shell.ProcFile.class,
                    "(" + org.modnet.api.shell.ProcFile.PATH + "=" + escape(path) + ")");
        } catch (InvalidSyntaxException e) {
            return null;
        }
        ServiceReference<org.modnet.api.shell.ProcFile> best = refs.stream().max(ServiceReference::compareTo).orElse(null);
        org.modnet.api.shell.ProcFile file = best == null ? null : context.getService(best);
        if (file == null) {
            return null;
        }
        try {
            return file.read(ns);
        } finally {
            context.ungetService(best);
        }
    }

    /** An LDAP filter value: backslash, star and parentheses escaped (RFC 4515). */
    static String escape(String value) {
        StringBuilder b = new StringBuilder();
        for (char c : value.toCharArray()) {
            if (c == '\\' || c == '*' || c == '(' || c == ')') {
                b.append('\\');
            }
            b.append(c);
        }
        return b.toString();
    }
}
