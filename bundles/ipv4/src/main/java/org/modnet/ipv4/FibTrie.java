package org.modnet.ipv4;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;

/**
 * An IPv4 routing table as a path-compressed binary trie (a PATRICIA trie, the idea under Linux's
 * {@code fib_trie}): every node tests one bit, a chain of one-child nodes collapses into one, so a
 * table of n prefixes has fewer than 2n nodes, and a lookup follows at most 32 of them: O(prefix
 * length), whatever the table's size. Each prefix holds its routes (several metrics may share one).
 *
 * @param <R> what a prefix leads to (route entries)
 */
public final class FibTrie<R> {
    private static final class Node<R> {
        final int key; // the prefix, bits past len are zero
        final int len; // prefix length 0..32
        Node<R> zero;
        Node<R> one;
        List<R> routes; // null: an inner node that is no prefix of the table

        Node(int key, int len) {
            this.key = key;
            this.len = len;
        }
    }

    private Node<R> root;
    private int prefixes;
    private int nodes;

    /** Bits 0..len-1 (from the top) of a key; the rest zero. */
    static int mask(int len) {
        return len == 0 ? 0 : -1 << (32 - len);
    }

    private static int bit(int key, int pos) {
        return (key >>> (31 - pos)) & 1;
    }

    /** The routes of exactly this prefix, made on demand; the list is the table's own. */
    public List<R> routesOf(int prefix, int len) {
        checkLen(len);
        int key = prefix & mask(len);
        Node<R> n = insertNode(key, len);
        if (n.routes == null) {
            n.routes = new ArrayList<>(1);
            prefixes++;
        }
        return n.routes;
    }

    /** The routes of exactly this prefix, or null. */
    public List<R> exact(int prefix, int len) {
        checkLen(len);
        int key = prefix & mask(len);
        Node<R> n = root;
        while (n != null && n.len <= len) {
            if ((key & mask(n.len)) != n.key) {
                return null;
            }
            if (n.len == len) {
                return n.routes;
            }
            n = bit(key, n.len) == 0 ? n.zero : n.one;
        }
        return null;
    }

    /** Removes the prefix if it has no routes left (call after emptying its list). */
    public void prune(int prefix, int len) {
        List<R> routes = exact(prefix, len);
        if (routes != null && routes.isEmpty()) {
            root = remove(root, prefix & mask(len), len);
        }
    }

    private Node<R> remove(Node<R> n, int key, int len) {
        if (n == null) {
            return null;
        }
        if (n.len == len && n.key == key) {
            n.routes = null;
            prefixes--;
            return collapse(n);
        }
        if (bit(key, n.len) == 0) {
            n.zero = remove(n.zero, key, len);
        } else {
            n.one = remove(n.one, key, len);
        }
        return n.routes == null ? collapse(n) : n;
    }

    /** An inner node with one child or none is not needed: path compression. */
    private Node<R> collapse(Node<R> n) {
        if (n.routes != null) {
            return n;
        }
        if (n.zero != null && n.one != null) {
            return n;
        }
        nodes--;
        return n.zero != null ? n.zero : n.one;
    }

    private Node<R> insertNode(int key, int len) {
        if (root == null) {
            nodes++;
            return root = new Node<>(key, len);
        }
        Node<R> parent = null;
        Node<R> n = root;
        while (true) {
            // the longest common prefix of the node's key and ours, within both lengths
            int common = Math.min(Math.min(n.len, len), Integer.numberOfLeadingZeros(n.key ^ key));
            if (common < n.len) {
                // we part ways inside this node's prefix: a new node at the split
                Node<R> split;
                if (common == len) {
                    split = new Node<>(key, len); // our prefix is a prefix of the node's
                    nodes++;
                    attach(split, n);
                    replace(parent, n, split);
                    return split;
                }
                split = new Node<>(key & mask(common), common);
                Node<R> leaf = new Node<>(key, len);
                nodes += 2;
                attach(split, n);
                attach(split, leaf);
                replace(parent, n, split);
                return leaf;
            }
            if (n.len == len) {
                return n; // same prefix
            }
            // the node's prefix is a prefix of ours: go down
            Node<R> child = bit(key, n.len) == 0 ? n.zero : n.one;
            if (child == null) {
                Node<R> leaf = new Node<>(key, len);
                nodes++;
                attach(n, leaf);
                return leaf;
            }
            parent = n;
            n = child;
        }
    }

    private static <R> void attach(Node<R> parent, Node<R> child) {
        if (bit(child.key, parent.len) == 0) {
            parent.zero = child;
        } else {
            parent.one = child;
        }
    }

    private void replace(Node<R> parent, Node<R> old, Node<R> now) {
        if (parent == null) {
            root = now;
        } else if (parent.zero == old) {
            parent.zero = now;
        } else {
            parent.one = now;
        }
    }

    /**
     * The longest-prefix match: the routes of the longest prefix in the table that contains
     * {@code address}, or null. Follows at most 33 nodes and allocates nothing.
     */
    public List<R> lookup(int address) {
        List<R> best = null;
        Node<R> n = root;
        while (n != null) {
            if ((address & mask(n.len)) != n.key) {
                break;
            }
            if (n.routes != null && !n.routes.isEmpty()) {
                best = n.routes;
            }
            if (n.len == 32) {
                break;
            }
            n = bit(address, n.len) == 0 ? n.zero : n.one;
        }
        return best;
    }

    /** Every prefix with routes, in address order, shorter prefixes first: what {@code ip route show} lists. */
    public void forEach(Consumer<List<R>> action) {
        walk(root, action);
    }

    /** Every prefix's routes, in {@link #forEach}'s order: for loops where a lambda's class would be spun (a live update's adoption). */
    List<List<R>> lists() {
        List<List<R>> all = new java.util.ArrayList<>();
        collect(root, all);
        return all;
    }

    private void collect(Node<R> n, List<List<R>> all) {
        if (n == null) {
            return;
        }
        if (n.routes != null && !n.routes.isEmpty()) {
            all.add(n.routes);
        }
        collect(n.zero, all);
        collect(n.one, all);
    }

    private void walk(Node<R> n, Consumer<List<R>> action) {
        if (n == null) {
            return;
        }
        if (n.routes != null && !n.routes.isEmpty()) {
            action.accept(n.routes);
        }
        walk(n.zero, action);
        walk(n.one, action);
    }

    public int prefixes() {
        return prefixes;
    }

    /** Trie nodes now: fewer than twice the prefixes, by path compression. */
    public int nodes() {
        return nodes;
    }

    private static void checkLen(int len) {
        if (len < 0 || len > 32) {
            throw new IllegalArgumentException("prefix length " + len + " is not in 0..32");
        }
    }
}
