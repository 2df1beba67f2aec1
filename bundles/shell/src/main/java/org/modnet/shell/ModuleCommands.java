package org.modnet.shell;

import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.net.URI;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.Dictionary;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.modnet.api.module.ModuleUsage;
import org.modnet.api.shell.CommandException;
import org.modnet.api.shell.Commands;
import org.osgi.framework.Bundle;
import org.osgi.framework.BundleContext;
import org.osgi.framework.BundleException;
import org.osgi.framework.Constants;
import org.osgi.framework.Filter;
import org.osgi.framework.FrameworkEvent;
import org.osgi.framework.FrameworkUtil;
import org.osgi.framework.InvalidSyntaxException;
import org.osgi.framework.ServiceReference;
import org.osgi.framework.wiring.BundleCapability;
import org.osgi.framework.wiring.BundleRequirement;
import org.osgi.framework.wiring.BundleRevision;
import org.osgi.framework.wiring.BundleWire;
import org.osgi.framework.wiring.BundleWiring;
import org.osgi.framework.wiring.FrameworkWiring;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;

/**
 * modnet's bundles are its kernel modules, managed with kmod's words: {@code lsmod} lists them with
 * Linux's columns (Module, Size, Used by: the module's reference count, then the modules that use
 * it), {@code modinfo NAME} describes one, {@code modprobe NAME} loads one with what it needs from the
 * module folder (the feature manager's repository), {@code rmmod [-f] NAME} removes one unless it is
 * in use, and {@code update NAME [FILE]} replaces one live.
 *
 * <p>A module's users are the bundles wired to its exported packages plus what its
 * {@link ModuleUsage} services report: sockets open on a protocol, devices made by a driver.
 */
@Component(service = ModuleCommands.class, immediate = true, property = {
        "osgi.command.scope=" + Commands.SCOPE, "osgi.command.function=lsmod",
        "osgi.command.function=modinfo", "osgi.command.function=modprobe", "osgi.command.function=rmmod",
        "osgi.command.function=update", "osgi.command.function=insmod" })
public final class ModuleCommands {
    /** Framework property naming the module folder (the feature manager's {@code modnet.repo}). */
    static final String REPO_DIR = "modnet.repo";
    /** Manifest header of a module that is part of the core, as Linux's modules.builtin lists them. */
    static final String BUILTIN = "Modnet-Builtin";
    private static final Pattern PACKAGE = Pattern.compile("\\(osgi\\.wiring\\.package=([^)]+)\\)");
    private static final Pattern OBJECT_CLASS = Pattern.compile("\\(objectClass=([^)]+)\\)");

    private final BundleContext context;
    private final ModuleRepository repository;
    /** What {@code rmmod -f} dropped, per module and kind of user, since this shell started. */
    private final Map<String, Map<String, Long>> dropped = new ConcurrentHashMap<>();

    @Activate
    public ModuleCommands(BundleContext context) {
        this.context = context;
        String repo = context.getProperty(REPO_DIR);
        this.repository = new ModuleRepository(Paths.get(repo == null || repo.isBlank() ? "repo" : repo).toAbsolutePath());
        if (!"off".equals(context.getProperty("modnet.update.priority"))) {
            // the update's scheduling boost links its native calls now, off any update's path: linked at the first raise, inside
            // an update, they cost the swap's thread more than the preparation it runs beside (FFM's downcall stubs are spun)
            Thread.ofPlatform().daemon().name("modnet-update-prelink").start(new Prelink());
        }
    }

    /**
     * Links {@link SchedBoost}'s calls: one raise and restore of this thread of its own, then a read; and defines the update's own
     * classes (its check, its clock, the warm-up's and the swap's threads): the first update of a JVM defined each on its path, a
     * read of this bundle's jar and a verification each (2.8 ms for the swap's class in a quiet run, task upd15f).
     */
    private static final class Prelink implements Runnable {
        @Override
        public void run() {
            try (SchedBoost b = SchedBoost.raise(SchedBoost.Policy.NICE)) {
                b.raised();
            }
            SchedBoost.current();
            ClassLoader loader = Prelink.class.getClassLoader();
            for (String c : UPDATE_CLASSES) {
                try {
                    Class.forName(c, true, loader);
                } catch (ClassNotFoundException | LinkageError e) {
                    // defined at first use, as before
                }
            }
        }
    }

    /** The classes {@code update} meets on its way to the swap, defined by {@link Prelink}. */
    private static final String[] UPDATE_CLASSES = { "org.modnet.shell.ModuleCheck", "org.modnet.shell.ModuleCheck$Import",
        "org.modnet.shell.ModuleCommands$Steps", "org.modnet.shell.ModuleCommands$Warm", "org.modnet.shell.ModuleCommands$WarmLoad",
        "org.modnet.shell.ModuleCommands$Swap" };

    /** {@code lsmod [-a]}: the modnet bundles, or with {@code -a} every bundle in the framework. */
    public void lsmod(String... args) {
        args = Commands.words(args);
        boolean all = false;
        for (String a : args) {
            if (a.equals("-a") || a.equals("--all")) {
                all = true;
            } else {
                throw new CommandException("lsmod: invalid option '" + a + "'\nUsage: lsmod [-a]", 1);
            }
        }
        lsmod(System.out, all);
    }

    void lsmod(PrintStream out, boolean all) {
        List<Bundle> bundles = new ArrayList<>();
        for (Bundle b : context.getBundles()) {
            if (b.getBundleId() != 0 && (all || isModnet(b))) {
                bundles.add(b);
            }
        }
        bundles.sort(Comparator.comparing(b -> String.valueOf(b.getSymbolicName())));
        List<String[]> rows = new ArrayList<>();
        for (Bundle b : bundles) {
            List<String> users = usedBy(b);
            int refcount = users.size() + total(usage(b));
            rows.add(new String[] { String.valueOf(b.getSymbolicName()), String.valueOf(size(b)),
                    refcount + (users.isEmpty() ? "" : " " + String.join(",", users)) });
        }
        out.print(lsmodTable(rows));
    }

    /** lsmod's table: the name column at least 19 wide as Linux prints it, the size right-aligned in 8. */
    static String lsmodTable(List<String[]> rows) {
        int width = 19;
        for (String[] r : rows) {
            width = Math.max(width, r[0].length());
        }
        String row = "%-" + width + "s %8s  %s%n";
        StringBuilder sb = new StringBuilder(String.format(row, "Module", "Size", "Used by"));
        for (String[] r : rows) {
            sb.append(String.format(row, r[0], r[1], r[2]));
        }
        return sb.toString();
    }

    /** {@code modinfo NAME}: a bundle's file, version, description, what it needs and what it offers. */
    public void modinfo(String name) {
        name = Commands.word(name);
        Bundle bundle = find(name);
        if (bundle == null) {
            throw new CommandException("modinfo: ERROR: Module " + name + " not found.", 1);
        }
        PrintStream out = System.out;
        Dictionary<String, String> h = bundle.getHeaders();
        field(out, "filename", bundle.getLocation());
        field(out, "name", bundle.getSymbolicName());
        field(out, "version", bundle.getVersion().toString());
        field(out, "description", h.get(Constants.BUNDLE_DESCRIPTION));
        field(out, "license", h.get("Bundle-License"));
        field(out, "author", h.get(Constants.BUNDLE_VENDOR));
        field(out, "state", state(bundle));
        Map<String, Integer> usage = usage(bundle);
        field(out, "users", usage.isEmpty() ? null : describe(usage));
        Map<String, Long> drops = dropped.get(bundle.getSymbolicName());
        if (drops != null && !drops.isEmpty()) {
            List<String> parts = new ArrayList<>();
            drops.forEach((kind, n) -> parts.add(count(n, kind)));
            field(out, "dropped", String.join(", ", parts) + " (rmmod -f)");
        }
        BundleWiring wiring = bundle.adapt(BundleWiring.class);
        if (wiring != null) {
            TreeSet<String> depends = new TreeSet<>();
            for (BundleWire w : wiring.getRequiredWires(null)) {
                Bundle provider = w.getProvider().getBundle();
                if (provider.getBundleId() != 0 && provider != bundle) {
                    depends.add(provider.getSymbolicName());
                }
            }
            field(out, "depends", String.join(",", depends));
            for (var cap : wiring.getCapabilities("osgi.wiring.package")) {
                field(out, "exports", cap.getAttributes().get("osgi.wiring.package") + " "
                        + cap.getAttributes().get("version"));
            }
        }
        parameters(bundle).forEach(p -> field(out, "parm", p));
        ServiceReference<?>[] services = bundle.getRegisteredServices();
        if (services != null) {
            TreeSet<String> names = new TreeSet<>();
            for (ServiceReference<?> ref : services) {
                names.add(String.join(",", (String[]) ref.getProperty(Constants.OBJECTCLASS)));
            }
            names.forEach(n -> field(out, "service", n));
        }
    }

    /** The manifest header listing a module's sysctls (a name, or a prefix ending in {@code .*}). */
    static final String PARAMETERS = "Modnet-Parameters";
    private static final Pattern CONFIGURATION_PID = Pattern.compile("configuration-pid=\"([^\"]+)\"");

    /**
     * {@code modinfo}'s {@code parm:} lines. A modnet module's parameters are its sysctls (the
     * {@value #PARAMETERS} header names them; values as init_net has them) and the Configuration
     * Admin PIDs its components read (from their descriptions).
     */
    private List<String> parameters(Bundle bundle) {
        List<String> out = new ArrayList<>();
        String declared = bundle.getHeaders().get(PARAMETERS);
        if (declared != null) {
            ServiceReference<org.modnet.api.net.NetCore> ref = context.getServiceReference(org.modnet.api.net.NetCore.class);
            org.modnet.api.net.NetCore core = ref == null ? null : context.getService(ref);
            try {
                java.util.SortedMap<String, String> all = core == null ? new TreeMap<>() : core.initNet().sysctl().all();
                for (String name : declared.split(",")) {
                    name = name.trim();
                    if (name.endsWith(".*")) {
                        String prefix = name.substring(0, name.length() - 1);
                        boolean any = false;
                        for (Map.Entry<String, String> e : all.entrySet()) {
                            if (e.getKey().startsWith(prefix) && e.getKey().indexOf('.', prefix.length()) < 0) {
                                out.add(e.getKey() + "=" + e.getValue().replace('\t', ' ') + " (sysctl)");
                                any = true;
                            }
                        }
                        if (!any) {
                            out.add(name + " (sysctl, not registered)");
                        }
                    } else if (!name.isEmpty()) {
                        String v = all.get(name);
                        out.add(v == null ? name + " (sysctl, not registered)" : name + "=" + v.replace('\t', ' ') + " (sysctl)");
                    }
                }
            } finally {
                if (core != null) {
                    context.ungetService(ref);
                }
            }
        }
        String components = bundle.getHeaders().get("Service-Component");
        if (components != null) {
            TreeSet<String> pids = new TreeSet<>();
            for (String path : components.split(",")) {
                java.net.URL xml = bundle.getEntry(path.trim());
                if (xml == null) {
                    continue;
                }
                try (InputStream in = xml.openStream()) {
                    Matcher m = CONFIGURATION_PID.matcher(new String(in.readAllBytes(), java.nio.charset.StandardCharsets.UTF_8));
                    while (m.find()) {
                        pids.add(m.group(1));
                    }
                } catch (IOException e) {
                    // unreadable description: no parameters from it
                }
            }
            Map<String, List<String>> described = metatypeParameters(bundle);
            for (String pid : pids) {
                List<String> parms = described.get(pid);
                if (parms == null) {
                    out.add(pid + " (Configuration Admin PID)");
                } else {
                    out.addAll(parms);
                }
            }
        }
        return out;
    }

    /**
     * The parameters a module describes in its metatype ({@code OSGI-INF/metatype/*.xml}, which bnd
     * writes from {@code @ObjectClassDefinition}), by the PID they configure: one {@code parm:} line
     * each as Linux's modinfo prints a {@code MODULE_PARM_DESC}, {@code NAME:DESCRIPTION (TYPE)}.
     */
    static Map<String, List<String>> metatypeParameters(Bundle bundle) {
        Map<String, List<String>> byPid = new TreeMap<>();
        java.util.Enumeration<java.net.URL> xmls = bundle.findEntries("OSGI-INF/metatype", "*.xml", false);
        while (xmls != null && xmls.hasMoreElements()) {
            try (InputStream in = xmls.nextElement().openStream()) {
                javax.xml.parsers.DocumentBuilderFactory f = javax.xml.parsers.DocumentBuilderFactory.newInstance();
                f.setNamespaceAware(false);
                f.setExpandEntityReferences(false);
                org.w3c.dom.Document doc = f.newDocumentBuilder().parse(in);
                Map<String, List<String>> byOcd = new java.util.HashMap<>();
                org.w3c.dom.NodeList ocds = doc.getElementsByTagName("OCD");
                for (int i = 0; i < ocds.getLength(); i++) {
                    org.w3c.dom.Element ocd = (org.w3c.dom.Element) ocds.item(i);
                    List<String> lines = new ArrayList<>();
                    org.w3c.dom.NodeList ads = ocd.getElementsByTagName("AD");
                    for (int k = 0; k < ads.getLength(); k++) {
                        org.w3c.dom.Element ad = (org.w3c.dom.Element) ads.item(k);
                        lines.add(ad.getAttribute("id") + ":" + ad.getAttribute("description") + " (" + linuxType(ad.getAttribute("type")) + ")");
                    }
                    byOcd.put(ocd.getAttribute("id"), lines);
                }
                org.w3c.dom.NodeList designates = doc.getElementsByTagName("Designate");
                for (int i = 0; i < designates.getLength(); i++) {
                    org.w3c.dom.Element d = (org.w3c.dom.Element) designates.item(i);
                    org.w3c.dom.NodeList objects = d.getElementsByTagName("Object");
                    if (objects.getLength() > 0) {
                        List<String> lines = byOcd.get(((org.w3c.dom.Element) objects.item(0)).getAttribute("ocdref"));
                        if (lines != null) {
                            byPid.put(d.getAttribute("pid"), lines);
                        }
                    }
                }
            } catch (IOException | javax.xml.parsers.ParserConfigurationException | org.xml.sax.SAXException e) {
                // an unreadable description: its PID is listed without parameters
            }
        }
        return byPid;
    }

    /** The C type modinfo names for a metatype attribute type. */
    private static String linuxType(String metatype) {
        return switch (metatype) {
            case "Integer" -> "int";
            case "Long" -> "long";
            case "Short" -> "short";
            case "Byte" -> "byte";
            case "Boolean" -> "bool";
            case "String", "Password" -> "charp";
            default -> metatype.toLowerCase(java.util.Locale.ROOT);
        };
    }

    // --- modprobe ---

    /**
     * {@code modprobe [-q] NAME}: loads the module and what it needs (the bundles exporting the packages
     * and registering the services it requires) from the module folder, and starts them; nothing when
     * it is live. {@code modprobe -r [-q] NAME...} removes modules as {@code rmmod} does.
     */
    public void modprobe(String... args) {
        args = Commands.words(args);
        boolean remove = false;
        boolean quiet = false;
        List<String> names = new ArrayList<>();
        for (String a : args) {
            switch (a) {
                case "-r", "--remove" -> remove = true;
                case "-q", "--quiet" -> quiet = true;
                default -> {
                    if (a.startsWith("-")) {
                        throw new CommandException("modprobe: ERROR: unknown option '" + a + "'\nUsage: modprobe [-q] NAME | modprobe -r [-q] NAME...", 1);
                    }
                    names.add(a);
                }
            }
        }
        if (names.isEmpty()) {
            throw new CommandException("modprobe: ERROR: missing parameters. See -h.", 1);
        }
        if (remove) {
            for (String name : names) {
                remove("modprobe: FATAL: ", name, false, quiet);
            }
            return;
        }
        if (names.size() > 1) {
            throw new CommandException("modprobe: ERROR: module parameters are not taken here: modnet's module parameters are "
                    + "its configuration (modinfo shows them)", 1);
        }
        load(names.get(0), quiet);
    }

    private void load(String name, boolean quiet) {
        Bundle bundle = find(name);
        if (bundle != null && (bundle.getState() == Bundle.ACTIVE || isFragment(bundle))) {
            return; // live already: modprobe does nothing
        }
        List<Bundle> added = new ArrayList<>();
        try {
            if (bundle == null) {
                ModuleRepository.Module m = repository.find(name);
                if (m == null) {
                    if (quiet) {
                        throw new CommandException("", 1);
                    }
                    throw new CommandException("modprobe: FATAL: Module " + name + " not found in directory " + repository.dir(), 1);
                }
                byte[] jar = Files.readAllBytes(m.jar());
                ModuleCheck check;
                try {
                    check = ModuleCheck.read(jar);
                } catch (IllegalArgumentException e) {
                    throw new BundleException(e.getMessage());
                }
                if (!check.isModnetModule()) {
                    throw new BundleException("Invalid module format (not a modnet module: it imports no org.modnet package)");
                }
                bundle = install(m, added);
            }
            List<Bundle> needed = new ArrayList<>();
            needed.add(bundle);
            String missing = installNeeded(needed, added);
            if (missing != null) {
                throw new BundleException("Unknown symbol in module (nothing in " + repository.dir() + " offers " + missing + ")");
            }
            if (!context.getBundle(0).adapt(FrameworkWiring.class).resolveBundles(needed)) {
                String unresolved = unresolvedImport(bundle);
                if (unresolved != null) {
                    throw new BundleException("Unknown symbol in module (" + unresolved + ")");
                }
            }
            // what the module needs first, the module last, as modprobe inserts dependencies first
            for (int i = needed.size() - 1; i >= 0; i--) {
                Bundle b = needed.get(i);
                if (!isFragment(b) && b.getState() != Bundle.ACTIVE) {
                    b.start();
                }
            }
            if (!isFragment(bundle)) {
                List<String> down = awaitServices(bundle);
                if (!down.isEmpty()) {
                    throw new BundleException("its components did not come up (nothing registered " + String.join(", ", down)
                            + ": activation failed or a service it needs is missing; see the log)");
                }
            }
        } catch (BundleException | IOException | IllegalStateException e) {
            for (Bundle b : added) {
                try {
                    b.stop();
                } catch (BundleException | IllegalStateException ignored) {
                    // not started
                }
            }
            for (Bundle b : added) {
                try {
                    b.uninstall();
                } catch (BundleException | IllegalStateException ignored) {
                    // already gone
                }
            }
            throw new CommandException("modprobe: ERROR: could not insert '" + name + "': " + e.getMessage(), 1);
        }
    }

    private Bundle install(ModuleRepository.Module m, List<Bundle> added) throws IOException, BundleException {
        try (InputStream in = Files.newInputStream(m.jar())) {
            Bundle b = context.installBundle(m.jar().toUri().toString(), in);
            added.add(b);
            return b;
        }
    }

    /**
     * Installs, from the module folder, providers for what the bundles in {@code needed} require and no
     * bundle offers (packages; services that no bundle registers), adding them to {@code needed}.
     *
     * @return the first thing nothing offers, or null when all is there
     */
    private String installNeeded(List<Bundle> needed, List<Bundle> added) throws IOException, BundleException {
        for (int i = 0; i < needed.size() && i < 64; i++) {
            BundleRevision rev = needed.get(i).adapt(BundleRevision.class);
            if (rev == null) {
                continue;
            }
            for (BundleRequirement req : rev.getDeclaredRequirements(null)) {
                String ns = req.getNamespace();
                boolean optional = "optional".equals(req.getDirectives().get("resolution"))
                        || "multiple".equals(req.getDirectives().get("cardinality"));
                if (optional || !(ns.equals(BundleRevision.PACKAGE_NAMESPACE) || ns.equals("osgi.service"))) {
                    continue;
                }
                String filter = req.getDirectives().get("filter");
                if (filter == null || offered(ns, filter, needed)) {
                    continue;
                }
                Matcher m = (ns.equals("osgi.service") ? OBJECT_CLASS : PACKAGE).matcher(filter);
                if (!m.find()) {
                    continue;
                }
                String what = m.group(1);
                ModuleRepository.Module provider = ns.equals("osgi.service") ? repository.providing(what) : repository.exporting(what);
                if (provider == null) {
                    return (ns.equals("osgi.service") ? "service " : "package ") + what;
                }
                Bundle present = null;
                for (Bundle b : context.getBundles()) {
                    if (provider.name().equals(b.getSymbolicName()) && b.getState() != Bundle.UNINSTALLED) {
                        present = b; // installed but stopped: starting it is enough
                    }
                }
                Bundle b = present != null ? present : install(provider, added);
                if (!needed.contains(b)) {
                    needed.add(b);
                }
            }
        }
        return null;
    }

    /** Whether some bundle offers a capability matching the filter (a live service counts for osgi.service). */
    private boolean offered(String namespace, String filter, List<Bundle> coming) {
        Filter f;
        try {
            f = FrameworkUtil.createFilter(filter);
        } catch (InvalidSyntaxException e) {
            return true; // not ours to judge: the framework's resolver will say
        }
        for (Bundle b : context.getBundles()) {
            if (b.getState() == Bundle.UNINSTALLED) {
                continue;
            }
            boolean live = b.getState() == Bundle.ACTIVE || b.getState() == Bundle.STARTING || coming.contains(b);
            if (namespace.equals("osgi.service") && !live) {
                continue; // a stopped bundle registers nothing
            }
            BundleRevision rev = b.adapt(BundleRevision.class);
            if (rev == null) {
                continue;
            }
            for (BundleCapability cap : rev.getDeclaredCapabilities(namespace)) {
                if (f.matches(cap.getAttributes())) {
                    return true;
                }
            }
        }
        if (namespace.equals("osgi.service")) {
            Matcher m = OBJECT_CLASS.matcher(filter);
            try {
                return m.find() && context.getServiceReferences(m.group(1), null) != null;
            } catch (InvalidSyntaxException e) {
                return true;
            }
        }
        return false;
    }

    // --- rmmod ---

    /**
     * {@code rmmod [-f] NAME...}: stops and uninstalls the module. A module in use (bundles wired to its
     * packages, or users its {@link ModuleUsage} reports) is refused, naming its users, unless
     * {@code -f} is given: then it goes anyway, its sockets or devices go with it, and the count of what
     * was dropped is printed (and kept for {@code modinfo}).
     */
    public void rmmod(String... args) {
        args = Commands.words(args);
        boolean force = false;
        List<String> names = new ArrayList<>();
        for (String a : args) {
            switch (a) {
                case "-f", "--force" -> force = true;
                case "-v", "--verbose", "-s", "--syslog" -> {
                    // accepted as kmod's rmmod accepts them; modnet prints the same either way
                }
                default -> {
                    if (a.startsWith("-")) {
                        throw new CommandException("rmmod: ERROR: unknown option '" + a + "'\nUsage: rmmod [-f] NAME...", 1);
                    }
                    names.add(a);
                }
            }
        }
        if (names.isEmpty()) {
            throw new CommandException("rmmod: ERROR: missing module name.", 1);
        }
        for (String name : names) {
            remove("rmmod: ERROR: ", name, force, false);
        }
    }

    private void remove(String prefix, String name, boolean force, boolean quiet) {
        Bundle bundle = find(name);
        if (bundle == null) {
            if (prefix.startsWith("modprobe") && quiet) {
                return;
            }
            throw new CommandException(prefix + (prefix.startsWith("modprobe") ? "Module " + name + " is not in kernel."
                    : "Module " + name + " is not currently loaded"), 1);
        }
        if (bundle.getBundleId() == 0 || "true".equalsIgnoreCase(bundle.getHeaders().get(BUILTIN))) {
            throw new CommandException(prefix + "Module " + name + " is builtin.", 1);
        }
        List<String> modules = usedBy(bundle);
        Map<String, Integer> usage = usage(bundle);
        if (!force && (!modules.isEmpty() || total(usage) > 0)) {
            throw new CommandException(prefix + inUse(name, modules, usage), 1);
        }
        String bsn = bundle.getSymbolicName();
        try {
            bundle.stop();
            bundle.uninstall();
        } catch (BundleException | IllegalStateException e) {
            throw new CommandException(prefix + "could not remove '" + name + "': " + e.getMessage(), 1);
        }
        if (modules.isEmpty()) {
            refresh(List.of(bundle));
        }
        if (force && (total(usage) > 0 || !modules.isEmpty())) {
            Map<String, Long> counts = dropped.computeIfAbsent(bsn, k -> new ConcurrentHashMap<>());
            usage.forEach((kind, n) -> counts.merge(kind, (long) n, Long::sum));
            System.out.println("rmmod: forced removal of " + bsn + ": dropped " + describe(usage)
                    + (modules.isEmpty() ? "" : "; left without it: " + String.join(",", modules)));
        }
    }

    /** kmod's refusal: {@code Module NAME is in use by: USERS}; the users here are modules and counts. */
    static String inUse(String name, List<String> modules, Map<String, Integer> usage) {
        List<String> users = new ArrayList<>(modules);
        usage.forEach((kind, n) -> {
            if (n > 0) {
                users.add(count(n, kind));
            }
        });
        return "Module " + name + " is in use by: " + String.join(" ", users);
    }

    /** "1 socket", "3 sockets": a count of a kind of user, for a person. */
    static String count(long n, String kind) {
        return n + " " + (n == 1 && kind.endsWith("s") ? kind.substring(0, kind.length() - 1) : kind);
    }

    private static String describe(Map<String, Integer> usage) {
        List<String> parts = new ArrayList<>();
        usage.forEach((kind, n) -> parts.add(count(n, kind)));
        return parts.isEmpty() ? "nothing" : String.join(", ", parts);
    }

    // --- update ---

    /**
     * {@code update NAME [FILE|URL]}: modnet's live replacement. Updates the bundle from the file (or
     * its own location), refreshes it only when its exported packages changed (an implementation
     * bundle exports none, so its users are never restarted), and prints what it did. A module whose
     * running and new versions declare {@code Modnet-Update: staged} is updated by {@link #stagedUpdate}
     * instead: a new bundle beside the old, warmed before the freeze (a new bundle id).
     */
    public void update(String... args) {
        String priority = context.getProperty("modnet.update.priority");
        if ("off".equals(priority) || "swap".equals(priority)) {
            update(args, null, null);
            return;
        }
        SchedBoost b = SchedBoost.raise(boostPolicy());
        boolean born = b.wasRaised();
        try {
            update(args, "; the command thread " + b.said() + " for the update" + (born ? " (born so: Gogo's dispatch of the line ran"
                    + " raised, UpdateDispatch)" : ""), b);
        } finally {
            b.close();
            if (born) {
                UpdateDispatch.settle(); // the threads the dispatch raised (this one, the job's) back to nice 0 for the session's later lines
            }
        }
    }

    private void update(String[] args, String boosted, SchedBoost raised) {
        args = Commands.words(args);
        if (args.length < 1 || args.length > 2 || args[0].isEmpty()) {
            throw new CommandException("Usage: update NAME|ID [FILE|URL]", 1);
        }
        long called = System.nanoTime();
        Steps steps = new Steps(called);
        steps.boost = boosted == null ? "" : boosted;
        steps.raised = raised;
        String name = args[0];
        Bundle bundle = find(name);
        if (bundle == null) {
            throw new CommandException("update: Module " + name + " not found.", 1);
        }
        String refused = "update: ERROR: could not update '" + name + "': ";
        String kept = "; the running version is unchanged";
        String oldVersion = bundle.getVersion().toString();
        String from = args.length == 2 ? args[1] : bundle.getLocation();
        byte[] jar;
        try (InputStream in = open(from)) {
            jar = in.readAllBytes();
        } catch (IOException e) {
            throw new CommandException("update: " + name + ": " + e.getMessage(), 1);
        }
        steps.mark("read");
        // everything that can be known before the swap is checked before it: the old version stays otherwise
        ModuleCheck check;
        try {
            check = ModuleCheck.read(jar);
        } catch (IllegalArgumentException e) {
            throw new CommandException(refused + from + ": " + e.getMessage() + kept, 1);
        }
        if (!check.symbolicName.equals(bundle.getSymbolicName())) {
            throw new CommandException(refused + from + " is module " + check.symbolicName + ", not " + bundle.getSymbolicName() + kept, 1);
        }
        if (isModnet(bundle) && !check.isModnetModule()) {
            throw new CommandException(refused + from + " is not a modnet module (it imports no org.modnet package)" + kept, 1);
        }
        String state = check.stateRefusal(bundle.getHeaders().get(ModuleCheck.STATE_VERSION));
        if (state != null) {
            throw new CommandException(refused + "the new version cannot adopt the running state: " + state + kept, 1);
        }
        String missing = missingImport(check, bundle);
        if (missing != null) {
            throw new CommandException(refused + "Unknown symbol in module (" + missing + ")" + kept, 1);
        }
        steps.mark("checked");
        if (check.staged && isStaged(bundle)) {
            stagedUpdate(bundle, from, jar, oldVersion, refused, kept, called, steps);
            return;
        }
        Set<String> before = exports(bundle);
        byte[] old = currentJar(bundle);
        Map<String, Long> handOverBefore = handOverCounters();
        long t0 = System.nanoTime();
        try {
            bundle.update(new java.io.ByteArrayInputStream(jar));
        } catch (BundleException | IllegalStateException e) {
            throw new CommandException(refused + e.getMessage() + restore(bundle, old), 1);
        }
        List<String> down = awaitServices(bundle);
        long swapMs = (System.nanoTime() - t0) / 1_000_000;
        if (!down.isEmpty()) {
            throw new CommandException(refused + "its components did not come up (nothing registered " + String.join(", ", down)
                    + ": activation failed or a service it needs is missing; see the log)" + restore(bundle, old), 1);
        }
        Set<String> after = exports(bundle);
        FrameworkWiring fw = context.getBundle(0).adapt(FrameworkWiring.class);
        String refreshed;
        if (!before.equals(after)) {
            int restarted = fw.getDependencyClosure(List.of(bundle)).size() - 1;
            refresh(List.of(bundle));
            refreshed = "exported packages changed: refreshed, " + count(restarted, "importers") + " restarted";
        } else if (fw.getRemovalPendingBundles().contains(bundle)) {
            refreshed = "exported packages unchanged: not refreshed (importers keep the packages they have)";
        } else {
            refreshed = "exports nothing in use: not refreshed";
        }
        System.out.println("update: " + bundle.getSymbolicName() + " " + oldVersion + " -> " + bundle.getVersion()
                + " from " + from + "; " + refreshed + "; " + state(bundle) + handOverReport(handOverBefore, swapMs));
    }

    /** Whether the running module declares {@code Modnet-Update: staged} too (both sides must hand over between two bundles). */
    private static boolean isStaged(Bundle b) {
        return "staged".equalsIgnoreCase(String.valueOf(b.getHeaders().get(ModuleCheck.UPDATE)).trim());
    }

    /**
     * The staged update of a module whose old and new versions declare {@code Modnet-Update: staged}:
     * the new jar is installed as a second bundle and resolved while the old version still carries the
     * traffic; then the old version is stopped (transiently, which its components read as an update:
     * they freeze and deposit their state), the new one started beside that stop (it adopts the state
     * and registers) and the old bundle uninstalled. The new version's classes are loaded and
     * initialised on a thread of their own from the moment it resolves ({@link #warmBeside}), its
     * components' classes first, so the swap neither waits for the warm-up nor runs a cold class loader
     * for the classes it meets first. The frozen window holds the hand-over itself, not Felix writing
     * and resolving a revision. The module gets a new bundle id, which the output says. A failure
     * before the freeze leaves the old version untouched; after it, the new bundle is removed and the
     * old one restarted.
     */
    private void stagedUpdate(Bundle old, String from, byte[] jar, String oldVersion, String refused, String kept, long called, Steps clock) {
        long t0 = System.nanoTime();
        Bundle next;
        try {
            next = context.installBundle(stagedLocation(old.getLocation()), new java.io.ByteArrayInputStream(jar));
        } catch (BundleException | IllegalStateException e) {
            throw new CommandException(refused + e.getMessage() + kept, 1);
        }
        long installed = System.nanoTime();
        clock.mark("installed");
        ServiceReference<org.modnet.api.handover.LiveHandOver> running = liveHandOver(old);
        boolean live = running != null && next.getHeaders().get(LIVE_HEADER) != null && !"false".equals(context.getProperty("modnet.update.live"));
        int level = laterLevel(old, next, live);
        if (!context.getBundle(0).adapt(FrameworkWiring.class).resolveBundles(List.of(next))) {
            uninstallQuietly(next);
            throw new CommandException(refused + "Unknown symbol in module (the framework cannot resolve the new version)" + kept, 1);
        }
        long resolved = System.nanoTime();
        clock.mark("resolved");
        // modnet.update.warm: false skips the warm-up, before waits for it before the stop (as it was): the benchmark's comparisons only
        String how = context.getProperty("modnet.update.warm");
        Warm warm = "false".equals(how) ? null
                : warmBeside(next, jar, clock.boost.isEmpty() ? null : boostPolicy(), clock.raised);
        if (warm != null && "before".equals(how)) {
            warm.await(10_000);
        }
        Map<String, Long> handOverBefore = handOverCounters();
        if (live) {
            clock.mark("warm-up started");
            liveUpdate(old, next, running, from, oldVersion, refused, kept, called, new long[] { t0, installed, resolved }, warm, handOverBefore,
                    clock, level);
            return;
        }
        long freeze = System.nanoTime();
        // the stop's steps, for the report: begun, the protocol service left, its users let go (the new version's start called), that
        // start returned; then the stopping thread's CPU time when it began and when the protocol service left (ns)
        long[] at = new long[6];
        List<String> down;
        try {
            if ("false".equals(context.getProperty("modnet.update.overlap"))) { // the benchmark's comparison only
                old.stop(Bundle.STOP_TRANSIENT);
                next.start();
            } else {
                startBesideTheStop(old, next, at);
            }
            down = awaitServices(next);
        } catch (BundleException | IllegalStateException e) {
            throw new CommandException(refused + e.getMessage() + restart(old, next), 1);
        }
        long swapMs = (System.nanoTime() - freeze) / 1_000_000;
        if (!down.isEmpty()) {
            throw new CommandException(refused + "its components did not come up (nothing registered " + String.join(", ", down)
                    + ": activation failed or a service it needs is missing; see the log)" + restart(old, next), 1);
        }
        long oldId = old.getBundleId();
        try {
            old.uninstall();
        } catch (BundleException | IllegalStateException e) {
            System.out.println("update: warning: the old bundle " + oldId + " could not be uninstalled: " + e.getMessage());
        }
        refresh(List.of(old));
        System.out.println("update: " + next.getSymbolicName() + " " + oldVersion + " -> " + next.getVersion() + " from " + from
                + "; staged: installed beside the running version as bundle " + next.getBundleId() + " (was " + oldId
                + ", uninstalled); " + String.format("read and checked in %.1f ms, installed in %.1f ms, resolved in %.1f ms",
                        (t0 - called) / 1e6, (installed - t0) / 1e6, (resolved - installed) / 1e6)
                + (warm == null ? "" : ", " + warm.report()) + stopSteps(called, at) + "; " + state(next)
                + handOverReport(handOverBefore, swapMs));
    }

    /**
     * Gives the new bundle the running one's start level, now or after the swap; returns the level still to give it after the swap
     * (0: none). Felix sets a bundle's start level asynchronously: its start-level thread (nice 0) takes the bundle's lock and
     * writes the level to the bundle cache. Set before the resolve, that thread met the raised command's resolve and the new
     * version's start on Felix's bundle lock (a fair {@code ReentrantLock}): the command waited behind a nice-0 thread that itself
     * waited for a core behind the packet threads (JFR, task upd15i: the resolve parked in {@code Felix.releaseBundleLock} while
     * {@code FelixStartLevel} waited in {@code acquireBundleLock} for the new bundle). A live update's new bundle that starts at
     * its initial level (not above the framework's active one) takes the old level once the swap is over; the other updates, or
     * {@code modnet.update.startlevel=before} (the benchmark's comparison only), set it before the resolve as they did.
     */
    private int laterLevel(Bundle old, Bundle next, boolean live) {
        org.osgi.framework.startlevel.BundleStartLevel oldLevel = old.adapt(org.osgi.framework.startlevel.BundleStartLevel.class);
        org.osgi.framework.startlevel.BundleStartLevel nextLevel = next.adapt(org.osgi.framework.startlevel.BundleStartLevel.class);
        if (oldLevel == null || nextLevel == null || oldLevel.getStartLevel() == nextLevel.getStartLevel()) {
            return 0;
        }
        org.osgi.framework.startlevel.FrameworkStartLevel framework = context.getBundle(0)
                .adapt(org.osgi.framework.startlevel.FrameworkStartLevel.class);
        if (live && framework != null && nextLevel.getStartLevel() <= framework.getStartLevel()
                && !"before".equals(context.getProperty("modnet.update.startlevel"))) {
            return oldLevel.getStartLevel();
        }
        nextLevel.setStartLevel(oldLevel.getStartLevel()); // before start: a higher initial level would not start it
        return 0;
    }

    /** The new jar's header saying its version stands by beside a running one and takes its state live ({@code LiveHandOver}). */
    static final String LIVE_HEADER = "Modnet-Live-Hand-Over";

    /** The bundle's {@code LiveHandOver}, if it offers one (the running version of a layer that hands over live). */
    private ServiceReference<org.modnet.api.handover.LiveHandOver> liveHandOver(Bundle b) {
        ServiceReference<?>[] refs = b.getRegisteredServices();
        if (refs != null) {
            for (ServiceReference<?> r : refs) {
                if (java.util.Arrays.asList((String[]) r.getProperty(Constants.OBJECTCLASS))
                        .contains(org.modnet.api.handover.LiveHandOver.class.getName())) {
                    @SuppressWarnings("unchecked")
                    ServiceReference<org.modnet.api.handover.LiveHandOver> l = (ServiceReference<org.modnet.api.handover.LiveHandOver>) r;
                    return l;
                }
            }
        }
        return null;
    }

    /**
     * The staged update of a layer whose running version hands over live ({@code LiveHandOver}) to a new version that says it
     * takes over so ({@value #LIVE_HEADER}): the new bundle is started while the old one still serves, in standby (its
     * component active, none of the layer's services registered), and prepares (its namespaces made, its adoption's code
     * linked); then, on a thread of its own, the old version leaves (its services go: their users hold its packets and park its
     * sockets; its state goes to the holder) and the new one takes the state and registers. Only then is the old bundle stopped
     * and uninstalled, off the swap's path: Felix's stop and SCR's deactivation, and the new bundle's start, are no longer
     * between the old version's last segment and the new one's first. A new version that does not come up in standby leaves the
     * old one untouched; a swap that fails after the old one left restarts it (it takes its own deposit back).
     */
    private void liveUpdate(Bundle old, Bundle next, ServiceReference<org.modnet.api.handover.LiveHandOver> running, String from,
            String oldVersion, String refused, String kept, long called, long[] steps, Warm warm, Map<String, Long> handOverBefore,
            Steps clock, int level) {
        long started;
        ServiceReference<org.modnet.api.handover.LiveHandOver> standing;
        try {
            try (SchedBoost fifo = startBoost(clock)) {
                next.start();
            }
            started = System.nanoTime();
            clock.mark("started");
            if (warm != null) {
                clock.warm = warm.duringTheStart();
            }
            standing = awaitLiveHandOver(next);
        } catch (BundleException | IllegalStateException e) {
            uninstallQuietly(next);
            throw new CommandException(refused + "the new version did not start: " + e.getMessage() + kept, 1);
        }
        if (standing == null) {
            uninstallQuietly(next);
            throw new CommandException(refused + "the new version did not come up in standby (no hand-over service within "
                    + ACTIVATION_WAIT_MS + " ms: its activation failed; see the log)" + kept, 1);
        }
        org.modnet.api.handover.LiveHandOver leaving = context.getService(running);
        org.modnet.api.handover.LiveHandOver taking = context.getService(standing);
        if (leaving == null || taking == null) {
            uninstallQuietly(next);
            throw new CommandException(refused + "a version's hand-over service went away" + kept, 1);
        }
        clock.mark("in standby");
        // the swap: on a thread of its own, named as the staged stop's (the benchmark's timeline samples it), started now and
        // waiting for the preparation: its start and its scheduling's raise (modnet.update.priority) are not on the way
        Swap run = new Swap(leaving, taking, swapBoost());
        long[] at = run.at;
        Throwable[] failed = run.failed;
        boolean[] left = run.left;
        Thread swap = Thread.ofPlatform().name("modnet-update-stop-" + old.getBundleId()).unstarted(run);
        // born raised with the command: at nice 0 it waited for a core to raise itself (both were the command's and the warm-up's)
        // and the swap began 3-27 ms after the preparation in half the runs under 1,000 streams (task upd15f)
        start(swap, clock.raised);
        long prepared = System.nanoTime();
        // the class loading beside waits from the preparation to the swap's end: Felix's loader spins a thread that wants a class
        // another thread is defining until it is defined, and on two cores under the streams the spinning swap took the core of
        // the loading thread (109-135 ms of the swap thread's CPU in the listeners' remake, task adopt15h); what the preparation
        // and the swap need that was not loaded yet, their own threads define, one at a time
        boolean holding = warm != null && !"false".equals(context.getProperty("modnet.update.warm.hold"));
        if (holding) {
            // what the new version names in Modnet-Update-Warm (its preparation's and its adoption's classes) is loaded first, before
            // the jar's walk: the preparation and the swap wait for it here, parked, rather than define it themselves (task lst15)
            String waitMs = context.getProperty("modnet.update.warm.named.wait.ms"); // the benchmark's comparison only
            long namedWait = waitMs == null ? NAMED_WAIT_NS : Long.parseLong(waitMs) * 1_000_000L;
            if (namedWait > 0) {
                warm.awaitNamed(namedWait);
            }
            warm.hold();
        }
        try {
            try {
                if (!"false".equals(context.getProperty("modnet.update.prepare"))) { // the benchmark's comparison only
                    taking.prepare();
                    prepared = System.nanoTime();
                }
                clock.mark("prepared");
            } finally {
                run.go(); // a preparation that threw leaves the swap to run all the same: take makes what prepare did not
            }
            try {
                swap.join();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        } finally {
            if (holding) {
                warm.resume();
            }
        }
        clock.mark("swapped");
        context.ungetService(running);
        context.ungetService(standing);
        List<String> down = failed[0] != null ? List.of() : awaitServices(next);
        if (failed[0] != null || !down.isEmpty()) {
            String why = failed[0] != null ? String.valueOf(failed[0])
                    : "its components did not come up (nothing registered " + String.join(", ", down) + "; see the log)";
            if (!left[0]) {
                uninstallQuietly(next);
                throw new CommandException(refused + why + kept, 1);
            }
            throw new CommandException(refused + why + restartLive(old, next), 1);
        }
        long swapMs = (at[2] - at[0]) / 1_000_000;
        long oldId = old.getBundleId();
        long stopping = System.nanoTime();
        try {
            old.uninstall(); // its stop hands nothing over: it left already
        } catch (BundleException | IllegalStateException e) {
            System.out.println("update: warning: the old bundle " + oldId + " could not be uninstalled: " + e.getMessage());
        }
        refresh(List.of(old));
        long gone = System.nanoTime();
        if (level > 0) { // the old version's start level, now that Felix's start-level thread no longer meets the update (laterLevel)
            next.adapt(org.osgi.framework.startlevel.BundleStartLevel.class).setStartLevel(level);
        }
        System.out.println("update: " + next.getSymbolicName() + " " + oldVersion + " -> " + next.getVersion() + " from " + from
                + "; staged: installed beside the running version as bundle " + next.getBundleId() + " (was " + oldId
                + ", uninstalled); " + String.format("read and checked in %.1f ms, installed in %.1f ms, resolved in %.1f ms",
                        (steps[0] - called) / 1e6, (steps[1] - steps[0]) / 1e6, (steps[2] - steps[1]) / 1e6)
                + (warm == null ? "" : ", " + warm.report())
                + String.format("; live: the new version started in standby at %.1f ms and prepared at %.1f, the old version left"
                        + " (its state deposited) at %.1f (began at %.1f; %.1f ms of the swapping thread's CPU), the new one took it,"
                        + " registered and returned at %.1f (%.1f ms of CPU: its registration's dispatch handed it the held segments), the"
                        + " old bundle stopped and uninstalled in %.1f ms after", (started - called) / 1e6,
                        (prepared - called) / 1e6, (at[1] - called) / 1e6, (at[0] - called) / 1e6, (at[5] - at[3]) / 1e6,
                        (at[2] - called) / 1e6, (at[4] - at[5]) / 1e6, (gone - stopping) / 1e6)
                + "; swap thread " + run.boost + "; " + clock
                + "; " + state(next) + handOverReport(handOverBefore, swapMs));
    }

    /**
     * The live swap's thread: the old version leaves, the new one takes over. A class, not a lambda: a lambda's class would be
     * spun at the first update of a JVM, between the new version's preparation and the old one's leaving.
     */
    private static final class Swap implements Runnable {
        private final org.modnet.api.handover.LiveHandOver leaving;
        private final org.modnet.api.handover.LiveHandOver taking;
        /** Began, left, taken (returned); the swapping thread's CPU when it began, when it ended, when the old version had left (ns). */
        final long[] at = new long[6];
        final Throwable[] failed = new Throwable[1];
        final boolean[] left = new boolean[1];
        /** The scheduling the swap asks for (null: none); what it got, for the command's line. */
        private final SchedBoost.Policy policy;
        volatile String boost = "not raised (modnet.update.priority=off)";
        private volatile boolean go;
        private volatile Thread waiting;

        Swap(org.modnet.api.handover.LiveHandOver leaving, org.modnet.api.handover.LiveHandOver taking, SchedBoost.Policy policy) {
            this.leaving = leaving;
            this.taking = taking;
            this.policy = policy;
        }

        /** The preparation is done: the swap begins. */
        void go() {
            go = true;
            java.util.concurrent.locks.LockSupport.unpark(waiting);
        }

        @Override
        public void run() {
            waiting = Thread.currentThread();
            SchedBoost b = policy == null ? null : SchedBoost.raise(policy); // never throws: a refusal says why
            try {
                if (b != null) {
                    boost = b.said();
                }
                while (!go) {
                    java.util.concurrent.locks.LockSupport.park(this);
                }
                at[3] = MX.getCurrentThreadCpuTime();
                at[0] = System.nanoTime();
                try {
                    leaving.leave();
                    left[0] = true;
                    at[1] = System.nanoTime();
                    at[5] = MX.getCurrentThreadCpuTime();
                    taking.take();
                    at[2] = System.nanoTime();
                } catch (Throwable t) {
                    failed[0] = t;
                }
                at[4] = MX.getCurrentThreadCpuTime();
                if (at[5] == 0) {
                    at[5] = at[4];
                }
            } finally {
                if (b != null) {
                    b.close();
                }
            }
        }
    }

    /** The thread CPU clock, taken when the shell starts: its first use costs milliseconds that an update would otherwise pay. */
    static final java.lang.management.ThreadMXBean MX = java.lang.management.ManagementFactory.getThreadMXBean();

    /**
     * {@code modnet.update.priority}: {@code command} (the default) raises the update command's thread, the new version's class
     * loading beside it and the live swap's thread to nice -20, each for its own part; {@code swap} the swap's thread only;
     * {@code off} none. {@code modnet.update.priority.policy=fifo} asks SCHED_FIFO 1 instead of nice -20. See {@link SchedBoost}.
     */
    private SchedBoost.Policy swapBoost() {
        return "off".equals(context.getProperty("modnet.update.priority")) ? null : boostPolicy();
    }

    /**
     * The new version's standby start (SCR's activation and the classes it defines: 11-20 ms of the command's CPU under 1,000
     * streams) runs {@code SCHED_FIFO} 1 on a command thread already raised: at nice -20 it still waited 9.9-22.9 ms for a core in
     * about one update of eight under 1,000 streams, which decided the update's tail (at FIFO: at most 4.3 ms in 40 runs). Only this step:
     * the swap's thread stays at nice -20 because its {@code synchronize_net} and Felix's class loader spin for threads it
     * would otherwise keep off their core (a FIFO swap thread spun 104 ms there once). {@code -Dmodnet.update.start.fifo=false}
     * leaves the start at the command's own scheduling (the benchmark's comparison). Null: nothing to raise or put back.
     */
    private SchedBoost startBoost(Steps clock) {
        if (clock.raised == null || !clock.raised.raised() || "false".equals(context.getProperty("modnet.update.start.fifo"))) {
            return null;
        }
        SchedBoost b = SchedBoost.raise(SchedBoost.Policy.FIFO);
        clock.startSched = ", its new version's standby start " + (b.raised() ? b.said() : b.said().replace("not raised", "not at SCHED_FIFO"));
        return b.raised() ? b : null;
    }

    private SchedBoost.Policy boostPolicy() {
        return "fifo".equals(context.getProperty("modnet.update.priority.policy")) ? SchedBoost.Policy.FIFO : SchedBoost.Policy.NICE;
    }

    /**
     * The update's clock: each step's wall time from the call and the command thread's CPU in it, for the command's line (the
     * benchmark's account of what comes before the swap).
     */
    static final class Steps {
        private final long called;
        private final long[] wall = new long[16];
        private final long[] cpu = new long[16];
        private final String[] step = new String[16];
        private int n;
        /** What the command thread's scheduling was for the update ({@code modnet.update.priority=command}). */
        String boost = "";
        /** The standby start's own raise ({@code startBoost}), empty if none. */
        String startSched = "";
        /** The command thread's raise ({@code modnet.update.priority=command}), null otherwise: the threads it starts are born raised. */
        SchedBoost raised;

        /**
         * With {@code modnet.update.schedstat=true} (the benchmark's diagnosis only): the command thread's time runnable but waiting
         * for a core ({@code /proc/thread-self/schedstat}'s run delay) at each step, so that a step's wall time beyond its CPU splits
         * into waiting for a core and blocked (a futex: a lock inside the JVM, or a Java-level wait); null when off.
         */
        private final long[] queued;

        /** {@code modnet.update.schedstat=true}: the steps' run-queue waits, and the loader's, on the command's line. */
        static final boolean SCHEDSTAT = Boolean.getBoolean("modnet.update.schedstat");
        /** What the class-loading thread had of the cores during the standby start ({@code Warm.afterTheStart}); empty if not asked. */
        String warm = "";

        Steps(long called) {
            this(called, SCHEDSTAT);
        }

        /** A schedstat file's CPU time and run-queue wait (ns); zeros if unreadable. */
        static long[] schedstat(String path) {
            try {
                String[] f = new String(java.nio.file.Files.readAllBytes(java.nio.file.Path.of(path)),
                        java.nio.charset.StandardCharsets.US_ASCII).trim().split(" ");
                return new long[] { Long.parseLong(f[0]), f.length > 1 ? Long.parseLong(f[1]) : 0 };
            } catch (IOException | RuntimeException e) {
                return new long[2];
            }
        }

        Steps(long called, boolean schedstat) {
            this.called = called;
            this.queued = schedstat ? new long[16] : null;
            this.cpu[0] = MX.getCurrentThreadCpuTime();
            this.wall[0] = called;
            if (queued != null) {
                queued[0] = runDelay();
            }
        }

        /** Formatted only at the end: nothing on the way to the swap but two clock reads (and the schedstat read when asked). */
        void mark(String name) {
            if (n + 1 < wall.length) {
                n++;
                cpu[n] = MX.getCurrentThreadCpuTime();
                wall[n] = System.nanoTime();
                step[n] = name;
                if (queued != null) {
                    queued[n] = runDelay();
                }
            }
        }

        /** The calling thread's run-queue wait so far in ns ({@code schedstat}'s second field), 0 if unreadable. */
        static long runDelay() {
            try {
                String[] f = new String(java.nio.file.Files.readAllBytes(java.nio.file.Path.of("/proc/thread-self/schedstat")),
                        java.nio.charset.StandardCharsets.US_ASCII).trim().split(" ");
                return f.length > 1 ? Long.parseLong(f[1]) : 0;
            } catch (IOException | RuntimeException e) {
                return 0;
            }
        }

        @Override
        public String toString() {
            // the thread's CPU before the call: Gogo's parse and dispatch of the line when the session's thread is new (each session
            // of `bin/modnet -c`, attach and the tests runs its lines on a thread of its own)
            StringBuilder b = new StringBuilder(String.format("the command's steps (ms from the call, the command thread's CPU ms in the"
                    + " step; %.1f ms of its CPU before the call):", cpu[0] / 1e6));
            for (int i = 1; i <= n; i++) {
                if (queued == null) {
                    b.append(String.format(" %s %.1f (%.1f)", step[i], (wall[i] - called) / 1e6, (cpu[i] - cpu[i - 1]) / 1e6));
                } else { // the CPU, then the wait for a core; the rest of the step's wall time the thread was blocked
                    b.append(String.format(" %s %.1f (%.1f; q %.1f)", step[i], (wall[i] - called) / 1e6, (cpu[i] - cpu[i - 1]) / 1e6,
                            (queued[i] - queued[i - 1]) / 1e6));
                }
            }
            return b + warm + boost + startSched;
        }
    }

    /** The new bundle's {@code LiveHandOver} once its component has come up in standby; null if it does not in time. */
    private ServiceReference<org.modnet.api.handover.LiveHandOver> awaitLiveHandOver(Bundle next) {
        long deadline = System.nanoTime() + ACTIVATION_WAIT_MS * 1_000_000;
        do {
            ServiceReference<org.modnet.api.handover.LiveHandOver> r = liveHandOver(next);
            if (r != null || next.getState() != Bundle.ACTIVE && next.getState() != Bundle.STARTING) {
                return r;
            }
            java.util.concurrent.locks.LockSupport.parkNanos(200_000);
        } while (System.nanoTime() < deadline);
        return null;
    }

    /** After a live swap that failed once the old version had left: the new bundle goes, the old one restarts and takes its deposit back. */
    private String restartLive(Bundle old, Bundle next) {
        uninstallQuietly(next);
        try {
            old.stop(Bundle.STOP_TRANSIENT);
        } catch (BundleException | IllegalStateException e) {
            // restarted below all the same
        }
        return restart(old, next);
    }

    /**
     * Stops the old version (transiently: its components hand over, as on {@code Bundle.update}) and
     * starts the new one beside that stop instead of after it: once the old version's protocol services
     * (those with {@code modnet.ipproto}, or IPv4's {@code Ipv4}) are gone and no other bundle uses them
     * any more (IPv4 holds their segments, the socket layer has parked their descriptors; for IPv4, UDP
     * and TCP have handed their sockets over while the old IPv4 still forwards), the new bundle starts on this
     * thread while the old one freezes on another; the new component waits for the deposit. Felix
     * finishing the old bundle's stop and SCR starting the new one leave the frozen window. A module
     * without such a service is stopped, then started, as before.
     */
    private void startBesideTheStop(Bundle old, Bundle next, long[] at) throws BundleException {
        CountDownLatch left = new CountDownLatch(1);
        java.util.concurrent.atomic.AtomicReference<ServiceReference<?>> leaving = new java.util.concurrent.atomic.AtomicReference<>();
        org.osgi.framework.ServiceListener watch = ev -> {
            if (ev.getType() == org.osgi.framework.ServiceEvent.UNREGISTERING && ev.getServiceReference().getBundle() == old
                    && leaving.compareAndSet(null, ev.getServiceReference())) {
                at[1] = System.nanoTime();
                at[5] = java.lang.management.ManagementFactory.getThreadMXBean().getCurrentThreadCpuTime(); // the stopping thread's
                left.countDown();
            }
        };
        try {
            context.addServiceListener(watch, "(|(" + org.modnet.api.inet.InetProtocol.PROTOCOL + "=*)(" + org.osgi.framework.Constants.OBJECTCLASS
                    + "=" + org.modnet.api.inet.Ipv4.class.getName() + "))");
        } catch (InvalidSyntaxException e) {
            throw new IllegalStateException(e); // a constant filter
        }
        java.util.concurrent.CompletableFuture<Void> stopped = new java.util.concurrent.CompletableFuture<>();
        at[0] = System.nanoTime();
        Thread.ofPlatform().name("modnet-update-stop-" + old.getBundleId()).start(() -> {
            at[4] = java.lang.management.ManagementFactory.getThreadMXBean().getCurrentThreadCpuTime();
            try {
                old.stop(Bundle.STOP_TRANSIENT); // stays persistently started
                stopped.complete(null);
            } catch (Throwable t) {
                stopped.completeExceptionally(t);
            } finally {
                left.countDown();
            }
        });
        try {
            left.await(ACTIVATION_WAIT_MS, TimeUnit.MILLISECONDS);
            ServiceReference<?> ref = leaving.get();
            long deadline = System.nanoTime() + ACTIVATION_WAIT_MS * 1_000_000;
            while (ref != null && usedByOthers(ref, old) && !stopped.isDone() && System.nanoTime() < deadline) {
                java.util.concurrent.locks.LockSupport.parkNanos(50_000); // the users' unbinds run on the stopping thread
            }
            if (stopped.isCompletedExceptionally()) {
                stopped.join(); // throws: the old version's stop failed, the new one is not started
            }
            at[2] = System.nanoTime();
            next.start();
            at[3] = System.nanoTime();
            stopped.get(ACTIVATION_WAIT_MS, TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new BundleException("update: interrupted while the old version stopped");
        } catch (java.util.concurrent.ExecutionException | java.util.concurrent.CompletionException e) {
            Throwable c = e.getCause() == null ? e : e.getCause();
            throw c instanceof BundleException b ? b : new BundleException(String.valueOf(c.getMessage()), c);
        } catch (java.util.concurrent.TimeoutException e) {
            throw new BundleException("the old version did not stop within " + ACTIVATION_WAIT_MS + " ms");
        } finally {
            context.removeServiceListener(watch);
        }
    }

    /** The staged stop's steps in ms from the call, for the command's line; empty when the stop did not run beside the start. */
    private static String stopSteps(long called, long[] at) {
        if (at[0] == 0 || at[1] == 0 || at[3] == 0) {
            return "";
        }
        return String.format("; the stop began %.1f ms after the call, the protocol service left at %.1f (%.1f ms of the stopping"
                + " thread's CPU), its users let go and the new version's start began at %.1f (returned at %.1f)", (at[0] - called) / 1e6,
                (at[1] - called) / 1e6, at[5] == 0 || at[4] == 0 ? -1.0 : (at[5] - at[4]) / 1e6, (at[2] - called) / 1e6, (at[3] - called) / 1e6);
    }

    /** Whether a bundle other than its own still uses the service (has not run its unbind yet). */
    private static boolean usedByOthers(ServiceReference<?> ref, Bundle owner) {
        Bundle[] users = ref.getUsingBundles();
        if (users != null) {
            for (Bundle u : users) {
                if (u != owner) {
                    return true;
                }
            }
        }
        return false;
    }

    /**
     * The new bundle's location: the running bundle's, as Felix's update in place keeps it (so a
     * feature still owns the module it installed), with {@code #N} since the running bundle still holds
     * it. {@code open} reads a {@code file:} URL without its fragment, so {@code update NAME} with no
     * file reads the same jar later.
     */
    private String stagedLocation(String running) {
        String root = running.replaceFirst("#\\d+$", "");
        String location = root;
        for (int n = 2; context.getBundle(location) != null; n++) {
            location = root + "#" + n;
        }
        return location;
    }

    /**
     * Starts a thread of the update's: born raised when the command's thread is ({@link SchedBoost#startRaised});
     * {@code -Dmodnet.update.bornraised=false} starts it at the normal priority to raise itself (the benchmark's comparison only).
     */
    private static void start(Thread t, SchedBoost raised) {
        if (raised == null || "false".equals(System.getProperty("modnet.update.bornraised"))) {
            t.start();
        } else {
            raised.startRaised(t);
        }
    }

    /**
     * The manifest header naming the classes of a module's jar that {@code update}'s class loading takes first, in order, before
     * it walks the jar: what the new version's preparation and its adoption of the running version's state meet. The swap
     * waits (parked, at most {@link #NAMED_WAIT_NS}) for them before the preparation, so neither defines them itself (task lst15:
     * the swap thread defined 25-40 classes of the new jar in the listeners' remake while the loading walked the jar).
     */
    static final String UPDATE_WARM = "Modnet-Update-Warm";
    /** The longest the swap waits for the classes the new version names: a slow loading leaves the rest to their first use. */
    static final long NAMED_WAIT_NS = 30_000_000L;

    /** The class names of a {@link #UPDATE_WARM} header, in its order: comma- or space-separated, blanks and repeats dropped. */
    static List<String> namedClasses(String header) {
        List<String> names = new ArrayList<>();
        if (header == null) {
            return names;
        }
        for (String n : header.split("[,\\s]+")) {
            if (!n.isEmpty() && !names.contains(n)) {
                names.add(n);
            }
        }
        return names;
    }

    /** The new version's class loading beside the swap: how far it got, for the command's report. */
    private static final class Warm {
        final long start = System.nanoTime();
        volatile int classes;
        volatile long took;
        volatile Thread thread;
        /** The classes the new version names first ({@link #UPDATE_WARM}): how many loaded, when done (ns from start, 0 not yet). */
        volatile int named;
        volatile long namedTook;
        /** How long the command waited for them (ns, -1 if it did not wait), and the waiting thread. */
        volatile long namedWait = -1;
        private volatile Thread namedWaiter;

        /** The loader: the named classes are loaded (or there were none). */
        void namedDone(int n) {
            named = n;
            namedTook = Math.max(1, System.nanoTime() - start);
            Thread t = namedWaiter;
            if (t != null) {
                java.util.concurrent.locks.LockSupport.unpark(t);
            }
        }

        /** Waits, parked, up to {@code ns} for the named classes. */
        void awaitNamed(long ns) {
            long t0 = System.nanoTime();
            namedWaiter = Thread.currentThread();
            while (namedTook == 0 && thread != null && thread.isAlive()) {
                long left = ns - (System.nanoTime() - t0);
                if (left <= 0) {
                    break;
                }
                java.util.concurrent.locks.LockSupport.parkNanos(this, left);
            }
            namedWaiter = null;
            namedWait = System.nanoTime() - t0;
        }

        /** The loader's Linux tid once it runs (0 before). */
        volatile int tid;
        /** The loader's own schedstat (CPU ns, run delay ns) when it began, with {@code modnet.update.schedstat=true}; null otherwise. */
        volatile long[] stat0;

        /** With {@code modnet.update.schedstat=true}, what the loader had of the cores during the standby start, for the steps line. */
        String duringTheStart() {
            String said = "";
            long[] s0 = stat0;
            int t = tid;
            if (s0 != null && t != 0) {
                long[] s1 = Steps.schedstat("/proc/self/task/" + t + "/schedstat");
                said = String.format("; the loader from its start to the standby start's end: CPU %.1f ms, q %.1f ms", (s1[0] - s0[0]) / 1e6,
                        (s1[1] - s0[1]) / 1e6);
            } else if (Steps.SCHEDSTAT) {
                said = "; the loader not begun by the standby start's end";
            }
            return said;
        }
        /** Set while the live swap runs: the loader parks between two classes. */
        private volatile boolean held;

        void hold() {
            held = true;
        }

        void resume() {
            held = false;
            java.util.concurrent.locks.LockSupport.unpark(thread);
        }

        /** The loader's wait between two classes while {@link #hold held}; whether it waited (the swap is over). */
        boolean waitWhileHeld() {
            boolean waited = false;
            while (held) {
                waited = true;
                java.util.concurrent.locks.LockSupport.park(this);
            }
            return waited;
        }

        /** Waits up to {@code ms} for the thread to finish. */
        void await(long ms) {
            Thread t = thread;
            if (t != null) {
                try {
                    t.join(ms);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
        }

        String report() {
            await(1_000); // it has usually finished with the swap; the report waits no longer than this
            long ns = took;
            long n = namedTook;
            return count(classes, "classes") + " loaded beside the swap" + (ns == 0 ? " (still loading)" : String.format(" in %.1f ms", ns / 1e6))
                    + (n == 0 ? " (the ones it names first not loaded before the swap)" : named == 0 ? ""
                            : String.format(" (the %d it names first in %.1f ms%s)", named, n / 1e6,
                                    namedWait < 0 ? "" : String.format(", the swap waited %.1f ms for them", namedWait / 1e6)));
        }
    }

    /**
     * Loads and initialises the classes of the new version's jar through its class loader, on a thread
     * of its own started as soon as it resolves: the classes of its components ({@code Service-Component}'s
     * implementations) first, which SCR's activation meets first, then the rest in the jar's order. The
     * swap does not wait for it: a class it has not reached yet loads at first use, as it would have
     * (a class both threads want is loaded once, the other waiting for it). A class that cannot load here (an optional
     * import missing) is left to load at first use too.
     */
    private static Warm warmBeside(Bundle next, byte[] jar, SchedBoost.Policy boost, SchedBoost raised) {
        Warm w = new Warm();
        BundleWiring wiring = next.adapt(BundleWiring.class);
        ClassLoader loader = wiring == null ? null : wiring.getClassLoader();
        if (loader == null) {
            w.took = 1;
            return w;
        }
        w.thread = Thread.ofPlatform().daemon().name("modnet-update-warm-" + next.getBundleId()).unstarted(new WarmLoad(w, jar, loader, boost, next));
        start(w.thread, raised); // born raised with the command: it loads what the new version's start is about to need
        return w;
    }

    /**
     * The warm-up's thread: a class, not a lambda (its class would be spun on the update's path). With {@code boost} (the
     * command's own thread raised, {@code modnet.update.priority=command}) it runs raised too: the new version's start waits
     * for the classes it is loading, and a raised command waiting for an unraised loader would be an inversion.
     */
    private static final class WarmLoad implements Runnable {
        private final Warm w;
        private final byte[] jar;
        private final ClassLoader loader;
        private final SchedBoost.Policy boost;
        private final Bundle next;

        WarmLoad(Warm w, byte[] jar, ClassLoader loader, SchedBoost.Policy boost, Bundle next) {
            this.w = w;
            this.jar = jar;
            this.loader = loader;
            this.boost = boost;
            this.next = next;
        }

        @Override
        public void run() {
            w.tid = SchedBoost.tid();
            if (Steps.SCHEDSTAT) {
                w.stat0 = Steps.schedstat("/proc/thread-self/schedstat");
            }
            try (SchedBoost b = boost != null ? SchedBoost.raise(boost) : null) {
                load();
            }
        }

        private void load() {
            // first what the new version names (Modnet-Update-Warm), before the jar's walk (10-20 ms of this thread's time under
            // the streams): its preparation and its adoption wait for these, and without them defined their own (task lst15)
            int n = 0;
            String header = null;
            try {
                header = next.getHeaders("").get(UPDATE_WARM);
            } catch (IllegalStateException gone) {
                // uninstalled: the swap failed
            }
            List<String> named = "false".equals(System.getProperty("modnet.update.warm.named")) ? List.of() : namedClasses(header);
            boolean normal = false;
            for (String c : named) {
                if (w.waitWhileHeld() && !normal) { // the swap did not wait for them all (NAMED_WAIT_NS): as below
                    SchedBoost.normal();
                    normal = true;
                }
                try {
                    Class.forName(c, true, loader);
                    w.classes = ++n;
                } catch (ClassNotFoundException | LinkageError | RuntimeException ignored) {
                    // loaded at first use instead
                }
            }
            w.namedDone(n);
            // the jar's walk too is on this thread: the command goes on to the start at once
            List<String> first = new ArrayList<>();
            List<String> rest = new ArrayList<>();
            Map<String, List<String>> refs = new java.util.HashMap<>();
            Pattern implementation = Pattern.compile("<implementation\\s+class=\"([^\"]+)\"");
            try (java.util.jar.JarInputStream in = new java.util.jar.JarInputStream(new java.io.ByteArrayInputStream(jar))) {
                for (java.util.jar.JarEntry e; (e = in.getNextJarEntry()) != null;) {
                    String name = e.getName();
                    if (name.startsWith("OSGI-INF/") && name.endsWith(".xml")) {
                        Matcher m = implementation.matcher(new String(in.readAllBytes(), java.nio.charset.StandardCharsets.UTF_8));
                        if (m.find()) {
                            first.add(m.group(1));
                        }
                    } else if (name.endsWith(".class") && !name.startsWith("META-INF/") && !name.endsWith("package-info.class")
                            && !name.equals("module-info.class")) {
                        String c = name.substring(0, name.length() - 6).replace('/', '.');
                        rest.add(c);
                        refs.put(c, classesNamedIn(in.readAllBytes()));
                    }
                }
            } catch (IOException ignored) {
                // read once already by ModuleCheck: cannot happen
            }
            java.util.Set<String> done = new java.util.HashSet<>(named);
            for (String c : warmOrder(first, rest, refs)) {
                if (done.contains(c)) {
                    continue;
                }
                if (w.waitWhileHeld()) {
                    // the swap is over: what is left to load must not run above the packet threads taking the held segments
                    // and the streams' restart (at nice -20 beside the new TCP's pass it kept them off both cores: no segment
                    // for 100 ms after the registration in one run)
                    SchedBoost.normal();
                }
                try {
                    Class.forName(c, true, loader);
                    w.classes = ++n;
                } catch (ClassNotFoundException | LinkageError | RuntimeException ignored) {
                    // loaded at first use instead (or the bundle went: a failed swap)
                }
            }
            w.took = Math.max(1, System.nanoTime() - w.start);
        }
    }

    /**
     * The warm-up's order when the classes' references are known: the components and their nested classes first (as
     * {@link #warmOrder(List, List)}), then the classes they name, then the classes those name, and so on (breadth first, each
     * class's names in its constant pool's order), then the rest in the jar's order. What the new version meets first in its start, its
     * preparation and its adoption (the sockets it remakes) comes before what only a later path names, so the preparation and
     * the swap, which define for themselves what the loading has not reached, find the most of it loaded.
     */
    static List<String> warmOrder(List<String> components, List<String> classes, Map<String, List<String>> refs) {
        List<String> base = warmOrder(components, classes);
        int start = 0;
        while (start < base.size() && (components.contains(base.get(start)) || nestedIn(base.get(start), components))) {
            start++;
        }
        List<String> order = new ArrayList<>(base.subList(0, start));
        java.util.Set<String> seen = new java.util.HashSet<>(order);
        java.util.Set<String> inJar = new java.util.HashSet<>(classes);
        for (int i = 0; i < order.size(); i++) {
            for (String r : refs.getOrDefault(order.get(i), List.of())) {
                if (inJar.contains(r) && seen.add(r)) {
                    order.add(r);
                }
            }
        }
        for (String c : base) {
            if (seen.add(c)) {
                order.add(c);
            }
        }
        return order;
    }

    private static boolean nestedIn(String c, List<String> components) {
        for (String f : components) {
            if (c.startsWith(f + "$")) {
                return true;
            }
        }
        return false;
    }

    /**
     * The classes a class file names in its constant pool ({@code CONSTANT_Class} entries: what it makes, calls, reads or
     * casts to), in the pool's order, as binary names; empty for bytes that are not a class file.
     */
    static List<String> classesNamedIn(byte[] b) {
        java.nio.ByteBuffer in = java.nio.ByteBuffer.wrap(b);
        List<String> names = new ArrayList<>();
        try {
            if (in.getInt() != 0xCAFEBABE) {
                return names;
            }
            in.getInt(); // minor, major
            int count = in.getShort() & 0xffff;
            String[] utf8 = new String[count];
            int[] classAt = new int[count];
            int classes = 0;
            for (int i = 1; i < count; i++) {
                int tag = in.get() & 0xff;
                switch (tag) {
                    case 1 -> {
                        byte[] s = new byte[in.getShort() & 0xffff];
                        in.get(s);
                        utf8[i] = new String(s, java.nio.charset.StandardCharsets.UTF_8); // modified UTF-8: the same for class names
                    }
                    case 7 -> classAt[classes++] = in.getShort() & 0xffff;
                    case 8, 16, 19, 20 -> in.getShort();
                    case 15 -> {
                        in.get();
                        in.getShort();
                    }
                    case 3, 4, 9, 10, 11, 12, 17, 18 -> in.getInt();
                    case 5, 6 -> {
                        in.getLong();
                        i++; // a long or a double takes two entries
                    }
                    default -> {
                        return names; // not a pool this reads: no order from it
                    }
                }
            }
            for (int k = 0; k < classes; k++) {
                String n = classAt[k] < count ? utf8[classAt[k]] : null;
                if (n != null && !n.startsWith("[")) {
                    names.add(n.replace('/', '.'));
                }
            }
        } catch (java.nio.BufferUnderflowException e) {
            names.clear();
        }
        return names;
    }

    /**
     * The warm-up's order: the components' classes, then their nested classes (the jar's order puts them anywhere, and the
     * components' constructors meet them next), then the jar's other classes in the jar's order.
     */
    static List<String> warmOrder(List<String> components, List<String> classes) {
        List<String> order = new ArrayList<>(components);
        List<String> rest = new ArrayList<>();
        for (String c : classes) {
            if (components.contains(c)) {
                continue;
            }
            boolean nested = false;
            for (String f : components) {
                nested |= c.startsWith(f + "$");
            }
            (nested ? order : rest).add(c);
        }
        order.addAll(rest);
        return order;
    }

    /** After a failed staged swap: the new bundle goes, the old one starts again; says what happened. */
    private String restart(Bundle old, Bundle next) {
        uninstallQuietly(next);
        try {
            old.start(Bundle.START_TRANSIENT);
            return "; the new bundle was removed and the old version restarted";
        } catch (BundleException | IllegalStateException e) {
            return "; the new bundle was removed, restarting the old version failed too (" + e.getMessage() + "): the module is "
                    + state(old);
        }
    }

    /** The core's hand-over counters ({@code StateHolder}), or empty when no core runs. */
    private Map<String, Long> handOverCounters() {
        ServiceReference<org.modnet.api.handover.StateHolder> ref = context.getServiceReference(org.modnet.api.handover.StateHolder.class);
        if (ref == null) {
            return Map.of();
        }
        org.modnet.api.handover.StateHolder h = context.getService(ref);
        try {
            return h == null ? Map.of() : h.counters();
        } finally {
            context.ungetService(ref);
        }
    }

    /** What the core's holder did during this update: tables adopted or refused, frames held and lost. */
    private String handOverReport(Map<String, Long> before, long swapMs) {
        Map<String, Long> after = handOverCounters();
        if (before.isEmpty() || after.isEmpty()) {
            return "; swapped in " + swapMs + " ms";
        }
        java.util.function.ToLongFunction<String> d = k -> after.getOrDefault(k, 0L) - before.getOrDefault(k, 0L);
        StringBuilder sb = new StringBuilder("; swapped in " + swapMs + " ms");
        if (d.applyAsLong("HandOverAdopted") > 0) {
            sb.append("; state handed over");
        }
        if (d.applyAsLong("HandOverRefused") > 0) {
            sb.append("; state refused by the new version (started empty)");
        }
        long held = d.applyAsLong("HandOverHeld");
        long dropped = d.applyAsLong("HandOverHeldDrops") + d.applyAsLong("HandOverHeldExpired");
        if (held > 0 || dropped > 0) {
            sb.append("; ").append(count(held, "frames")).append(" held, ").append(dropped).append(" dropped");
        }
        return sb.toString();
    }

    /** The running revision's jar, from the framework's cache; null if it cannot be read. */
    private static byte[] currentJar(Bundle b) {
        File data = b.getDataFile("");
        File dir = data == null ? null : data.getParentFile();
        File[] all = dir == null ? null : dir.listFiles();
        File latest = null; // a loop, not lambdas: an in-place update's first run of this would spin their classes before the stop
        for (int i = 0; all != null && i < all.length; i++) {
            if (all[i].getName().startsWith("version") && (latest == null || revisionOrder(all[i]) > revisionOrder(latest))) {
                latest = all[i];
            }
        }
        if (latest != null) {
            File jar = new File(latest, "bundle.jar");
            try {
                return jar.isFile() ? Files.readAllBytes(jar.toPath()) : null;
            } catch (IOException e) {
                return null;
            }
        }
        return null;
    }

    /** Puts the old version back after a failed update; says what happened, for the error message. */
    private static String restore(Bundle bundle, byte[] old) {
        if (old == null) {
            return "; the old version could not be restored (its jar was not found): the module is " + state(bundle);
        }
        try {
            bundle.update(new java.io.ByteArrayInputStream(old));
            if (bundle.getState() != Bundle.ACTIVE) {
                bundle.start();
            }
            return "; the old version was restored";
        } catch (BundleException | IllegalStateException e) {
            return "; restoring the old version failed too (" + e.getMessage() + "): the module is " + state(bundle);
        }
    }

    /**
     * The imported package (with its version range) that no bundle exports, or null: what the resolver
     * would refuse, said before anything is installed. {@code replacing}'s own exports do not count.
     */
    private String missingImport(ModuleCheck check, Bundle replacing) {
        Map<String, List<org.osgi.framework.Version>> exported = null; // every bundle's exports, read once (an update's own clock runs)
        for (ModuleCheck.Import imp : check.imports) {
            if (imp.optional() || check.exports.contains(imp.pkg()) || imp.pkg().startsWith("java.")) {
                continue;
            }
            if (exported == null) {
                exported = new java.util.HashMap<>();
                for (Bundle b : context.getBundles()) {
                    BundleRevision rev = b == replacing || b.getState() == Bundle.UNINSTALLED ? null : b.adapt(BundleRevision.class);
                    if (rev == null) {
                        continue;
                    }
                    for (BundleCapability cap : rev.getDeclaredCapabilities(BundleRevision.PACKAGE_NAMESPACE)) {
                        // loops, not lambdas, on update's path: each lambda's class is spun at its first run in the JVM
                        Object v = cap.getAttributes().get("version");
                        String pkg = String.valueOf(cap.getAttributes().get(BundleRevision.PACKAGE_NAMESPACE));
                        List<org.osgi.framework.Version> versions = exported.get(pkg);
                        if (versions == null) {
                            versions = new ArrayList<>();
                            exported.put(pkg, versions);
                        }
                        versions.add(v instanceof org.osgi.framework.Version ver ? ver : org.osgi.framework.Version.emptyVersion);
                    }
                }
            }
            boolean offered = false;
            for (org.osgi.framework.Version v : exported.getOrDefault(imp.pkg(), List.of())) {
                offered |= imp.range().includes(v);
            }
            if (!offered) {
                return "nothing exports package " + imp.pkg() + " in version " + imp.range() + available(imp.pkg());
            }
        }
        return null;
    }

    /** The first package the bundle imports that nothing exports in a version it accepts, or null. */
    private String unresolvedImport(Bundle bundle) {
        if (bundle.getState() != Bundle.INSTALLED) {
            return null;
        }
        BundleRevision rev = bundle.adapt(BundleRevision.class);
        if (rev == null) {
            return null;
        }
        for (BundleRequirement req : rev.getDeclaredRequirements(BundleRevision.PACKAGE_NAMESPACE)) {
            String filter = req.getDirectives().get("filter");
            if ("optional".equals(req.getDirectives().get("resolution")) || filter == null || offered(BundleRevision.PACKAGE_NAMESPACE, filter, List.of())) {
                continue;
            }
            Matcher m = PACKAGE.matcher(filter);
            String pkg = m.find() ? m.group(1) : filter;
            return "nothing exports package " + pkg + " as " + filter + available(pkg);
        }
        return null;
    }

    /** ", which is here in version 1.7.0": what the framework has of a package. */
    private String available(String pkg) {
        TreeSet<String> versions = new TreeSet<>();
        for (Bundle b : context.getBundles()) {
            BundleRevision rev = b.adapt(BundleRevision.class);
            if (rev != null) {
                for (BundleCapability cap : rev.getDeclaredCapabilities(BundleRevision.PACKAGE_NAMESPACE)) {
                    if (pkg.equals(cap.getAttributes().get(BundleRevision.PACKAGE_NAMESPACE))) {
                        versions.add(String.valueOf(cap.getAttributes().get("version")));
                    }
                }
            }
        }
        return versions.isEmpty() ? "" : ", which is here in version " + String.join(", ", versions) + ": an API version mismatch";
    }

    /** How long a module's components have to register their services after it starts. */
    private static final long ACTIVATION_WAIT_MS = Long.getLong("modnet.module.activation.ms", 3_000);

    /**
     * Waits until the bundle registers every service its components declare (bnd writes them as
     * {@code osgi.service} capabilities); returns the ones still missing. A component whose activation
     * threw registers nothing.
     */
    private static List<String> awaitServices(Bundle bundle) {
        long deadline = System.nanoTime() + ACTIVATION_WAIT_MS * 1_000_000;
        List<String> missing;
        do {
            missing = missingServices(bundle);
            if (missing.isEmpty()) {
                return missing;
            }
            try {
                Thread.sleep(10);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return missing;
            }
        } while (System.nanoTime() < deadline);
        return missing;
    }

    private static List<String> missingServices(Bundle bundle) {
        List<String> missing = new ArrayList<>();
        BundleRevision rev = bundle.adapt(BundleRevision.class);
        if (rev == null || bundle.getState() != Bundle.ACTIVE) {
            missing.add("anything (the bundle is " + state(bundle) + ")");
            return missing;
        }
        Set<String> registered = new TreeSet<>();
        ServiceReference<?>[] refs = bundle.getRegisteredServices();
        BundleContext mine = FrameworkUtil.getBundle(ModuleCommands.class).getBundleContext();
        if (refs != null) {
            for (ServiceReference<?> r : refs) {
                // a component whose activation threw may leave its registration: its service object is null
                Object service = mine == null ? new Object() : mine.getService(r);
                if (service == null) {
                    continue;
                }
                if (mine != null) {
                    mine.ungetService(r);
                }
                for (String oc : (String[]) r.getProperty(Constants.OBJECTCLASS)) {
                    registered.add(oc);
                }
            }
        }
        for (BundleCapability cap : rev.getDeclaredCapabilities("osgi.service")) {
            if (cap.getAttributes().get(Constants.OBJECTCLASS) instanceof List<?> classes) {
                for (Object oc : classes) {
                    if (!registered.contains(String.valueOf(oc)) && !missing.contains(String.valueOf(oc))) {
                        missing.add(String.valueOf(oc));
                    }
                }
            }
        }
        return missing;
    }

    // --- insmod ---

    /**
     * {@code insmod FILE}: installs and starts a module from a jar, nothing else (no dependencies are
     * loaded: that is {@code modprobe}'s work). Refused, with nothing left installed: a file that is no
     * OSGi bundle, a bundle that is no modnet module, one already loaded, one whose API imports nothing
     * here satisfies, one whose components fail to activate.
     */
    public void insmod(String... args) {
        args = Commands.words(args);
        if (args.length != 1 || args[0].isEmpty()) {
            throw new CommandException("Usage: insmod FILE", 1);
        }
        String file = args[0];
        String refused = "insmod: ERROR: could not insert module " + file + ": ";
        byte[] jar;
        try (InputStream in = open(file)) {
            jar = in.readAllBytes();
        } catch (IOException e) {
            throw new CommandException("insmod: ERROR: could not load module " + file + ": No such file or directory", 1);
        }
        ModuleCheck check;
        try {
            check = ModuleCheck.read(jar);
        } catch (IllegalArgumentException e) {
            throw new CommandException(refused + e.getMessage(), 1);
        }
        if (!check.isModnetModule()) {
            throw new CommandException(refused + "Invalid module format (not a modnet module: it imports no org.modnet package)", 1);
        }
        for (Bundle b : context.getBundles()) {
            if (check.symbolicName.equals(b.getSymbolicName()) && b.getState() != Bundle.UNINSTALLED) {
                throw new CommandException(refused + "File exists (" + check.symbolicName + " is loaded: use update)", 1);
            }
        }
        String missing = missingImport(check, null);
        if (missing != null) {
            throw new CommandException(refused + "Unknown symbol in module (" + missing + ")", 1);
        }
        Bundle b = null;
        try {
            String location = Files.isRegularFile(Paths.get(file)) ? Paths.get(file).toAbsolutePath().toUri().toString() : file;
            b = context.installBundle(location, new java.io.ByteArrayInputStream(jar));
            b.start();
            List<String> down = awaitServices(b);
            if (!down.isEmpty()) {
                throw new BundleException("its components did not come up (nothing registered " + String.join(", ", down)
                        + ": activation failed or a service it needs is missing; see the log)");
            }
        } catch (BundleException | IllegalStateException | java.nio.file.InvalidPathException e) {
            uninstallQuietly(b);
            throw new CommandException(refused + e.getMessage(), 1);
        }
    }

    private void uninstallQuietly(Bundle b) {
        if (b == null) {
            return;
        }
        try {
            b.uninstall();
        } catch (BundleException | IllegalStateException ignored) {
            // already gone
        }
        refresh(List.of(b));
    }

    private static InputStream open(String fileOrUrl) throws IOException {
        Path path = Paths.get(fileOrUrl);
        if (Files.isRegularFile(path)) {
            return Files.newInputStream(path);
        }
        if (fileOrUrl.matches("[a-zA-Z][a-zA-Z0-9+.-]+:.*")) {
            try {
                return new URI(fileOrUrl).toURL().openStream();
            } catch (URISyntaxException | IllegalArgumentException e) {
                throw new IOException("bad URL " + fileOrUrl);
            }
        }
        throw new IOException(fileOrUrl + ": No such file or directory");
    }

    private static Set<String> exports(Bundle bundle) {
        Set<String> out = new TreeSet<>();
        BundleRevision rev = bundle.adapt(BundleRevision.class);
        if (rev != null) {
            for (BundleCapability cap : rev.getDeclaredCapabilities(BundleRevision.PACKAGE_NAMESPACE)) {
                out.add(cap.getAttributes().get(BundleRevision.PACKAGE_NAMESPACE) + " " + cap.getAttributes().get("version"));
            }
        }
        return out;
    }

    /** Refreshes the bundles and waits for it, so the command's output tells the result. */
    private void refresh(Collection<Bundle> bundles) {
        CountDownLatch done = new CountDownLatch(1);
        context.getBundle(0).adapt(FrameworkWiring.class).refreshBundles(bundles, event -> {
            if (event.getType() == FrameworkEvent.PACKAGES_REFRESHED || event.getType() == FrameworkEvent.ERROR) {
                done.countDown();
            }
        });
        try {
            done.await(30, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    // --- the modules and their users ---

    /** A module by the name lsmod shows, its short form ({@code udp}, {@code veth}) or its bundle id. */
    private Bundle find(String name) {
        for (Bundle b : context.getBundles()) {
            if (b.getState() != Bundle.UNINSTALLED
                    && (matches(name, b.getSymbolicName()) || name.equals(String.valueOf(b.getBundleId())))) {
                return b;
            }
        }
        return null;
    }

    /** Whether a name as typed names the bundle: its symbolic name, or the short form of a modnet one. */
    static boolean matches(String name, String bsn) {
        return bsn != null && !name.isEmpty() && (name.equals(bsn) || ("org.modnet." + name).equals(bsn)
                || ("org.modnet.drivers." + name).equals(bsn));
    }

    /** The users the module's {@link ModuleUsage} services report, summed by kind (zeros left out). */
    private Map<String, Integer> usage(Bundle bundle) {
        Map<String, Integer> out = new TreeMap<>();
        ServiceReference<?>[] refs = bundle.getRegisteredServices();
        if (refs == null) {
            return out;
        }
        for (ServiceReference<?> ref : refs) {
            String[] classes = (String[]) ref.getProperty(Constants.OBJECTCLASS);
            if (classes == null || !List.of(classes).contains(ModuleUsage.class.getName())) {
                continue;
            }
            Object service = context.getService(ref);
            try {
                if (service instanceof ModuleUsage u) {
                    u.users().forEach((kind, n) -> {
                        if (n != null && n > 0) {
                            out.merge(kind, n, Integer::sum);
                        }
                    });
                }
            } finally {
                if (service != null) {
                    context.ungetService(ref);
                }
            }
        }
        return out;
    }

    private static int total(Map<String, Integer> usage) {
        int n = 0;
        for (int v : usage.values()) {
            n += v;
        }
        return n;
    }

    /** The module's size as lsmod prints it: its jar's bytes (the framework's copy, else its location). */
    static long size(Bundle b) {
        File data = b.getDataFile("");
        File dir = data == null ? null : data.getParentFile();
        File[] revisions = dir == null ? null : dir.listFiles(f -> f.getName().startsWith("version"));
        if (revisions != null && revisions.length > 0) {
            java.util.Arrays.sort(revisions, Comparator.comparing(ModuleCommands::revisionOrder));
            File jar = new File(revisions[revisions.length - 1], "bundle.jar");
            if (jar.isFile()) {
                return jar.length();
            }
        }
        String location = b.getLocation().replaceFirst("^(feature|reference):", "");
        if (location.startsWith("file:")) {
            try {
                Path p = Paths.get(new URI(location));
                if (Files.isRegularFile(p)) {
                    return Files.size(p);
                }
            } catch (URISyntaxException | IllegalArgumentException | IOException e) {
                return 0;
            }
        }
        return 0;
    }

    /** Felix names a bundle's revisions {@code versionN.M}: order them by N, then M. */
    private static long revisionOrder(File f) {
        String[] nm = f.getName().substring("version".length()).split("\\.");
        try {
            return Long.parseLong(nm[0]) * 1_000_000 + (nm.length > 1 ? Long.parseLong(nm[1]) : 0);
        } catch (NumberFormatException e) {
            return -1;
        }
    }

    private static boolean isFragment(Bundle b) {
        return b.getHeaders().get(Constants.FRAGMENT_HOST) != null;
    }

    private static void field(PrintStream out, String key, String value) {
        if (value != null && !value.isEmpty()) {
            out.printf("%-12s %s%n", key + ":", value);
        }
    }

    private static boolean isModnet(Bundle b) {
        String bsn = b.getSymbolicName();
        return bsn != null && (bsn.equals("org.modnet") || bsn.startsWith("org.modnet."));
    }

    /**
     * Who would break if the module went away, as Linux lists the modules using another's symbols: the
     * bundles wired to the packages it exports, and those holding one of its services that they
     * require (a mandatory reference, which bnd declares as an {@code osgi.service} requirement).
     * Registries that take any number of a service (the core's devices, IPv4's protocols) hold no
     * reference on it, as {@code inet_add_protocol} takes none on the module.
     */
    private static List<String> usedBy(Bundle b) {
        BundleWiring wiring = b.adapt(BundleWiring.class);
        TreeSet<String> users = new TreeSet<>();
        if (wiring != null) {
            for (BundleWire w : wiring.getProvidedWires("osgi.wiring.package")) {
                Bundle requirer = w.getRequirer().getBundle();
                if (requirer != b) {
                    users.add(requirer.getSymbolicName());
                }
            }
        }
        ServiceReference<?>[] services = b.getState() == Bundle.ACTIVE ? b.getRegisteredServices() : null;
        if (services != null) {
            for (ServiceReference<?> ref : services) {
                Bundle[] using = ref.getUsingBundles();
                if (using == null) {
                    continue;
                }
                for (Bundle u : using) {
                    if (u != b && u.getBundleId() != 0 && requires(u, ref)) {
                        users.add(u.getSymbolicName());
                    }
                }
            }
        }
        return new ArrayList<>(users);
    }

    /** Whether the bundle declares a mandatory, single {@code osgi.service} requirement the service meets. */
    private static boolean requires(Bundle user, ServiceReference<?> ref) {
        BundleRevision rev = user.adapt(BundleRevision.class);
        if (rev == null) {
            return false;
        }
        for (BundleRequirement req : rev.getDeclaredRequirements("osgi.service")) {
            if ("optional".equals(req.getDirectives().get("resolution"))
                    || "multiple".equals(req.getDirectives().get("cardinality"))) {
                continue;
            }
            String filter = req.getDirectives().get("filter");
            try {
                if (filter != null && FrameworkUtil.createFilter(filter).match(ref)) {
                    return true;
                }
            } catch (InvalidSyntaxException e) {
                // a requirement the framework would refuse anyway
            }
        }
        return false;
    }

    /** The module states /proc/modules shows, from the bundle's. */
    static String state(Bundle b) {
        return switch (b.getState()) {
            case Bundle.ACTIVE -> "Live";
            case Bundle.STARTING -> "Loading";
            case Bundle.STOPPING -> "Unloading";
            case Bundle.RESOLVED -> "Resolved";
            case Bundle.INSTALLED -> "Installed";
            default -> "Uninstalled";
        };
    }
}
