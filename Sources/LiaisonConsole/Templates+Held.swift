/// The quarantine pages' templates: every value is escaped (`{{x}}`), for each came from another agency.
extension Templates {
    /// Release and drop forms of one held transaction (inside a `held` item's context).
    static let heldActions = """
        <form method="post" action="/held/release?id={{idQuery}}" class="inline"><input type="hidden" name="csrf" value="{{csrf}}"><button type="submit" aria-label="Release {{id}}">Release</button></form>
        <form method="post" action="/held/drop?id={{idQuery}}" class="inline"><input type="hidden" name="csrf" value="{{csrf}}"><button type="submit" class="danger" aria-label="Drop {{id}}">Drop</button></form>
        """

    static let held = """
        <p>A transaction is held when it cannot be applied here now: the sender wrote outside the scopes it may
        write, a value breaks this replica's rules, its clock is ahead, its key is not trusted yet, or it names a
        table or column this replica does not know. Those after it from the same agency wait behind it. Nothing is
        lost: <b>Release</b> applies it whatever the sender's write grant (every other check still applies);
        <b>Drop</b> forgets it until a peer sends it again.</p>
        {{#hasHeld}}<table id="held"><thead><tr><th scope="col">Transaction</th><th scope="col">From</th><th scope="col">Reason</th>
        <th scope="col">Held since</th><th scope="col">Waits behind</th><th scope="col">Waiting behind it</th><th scope="col">Actions</th></tr></thead><tbody>
        {{#held}}<tr id="held-{{idQuery}}"><td><a href="/held/item?id={{idQuery}}">{{id}}</a><br><small>by {{author}} · {{summary}}</small></td><td>{{source}}</td>
        <td><code>{{error}}</code> {{message}}</td><td>{{heldAt}} <small>({{attempts}} tries)</small></td>
        <td>{{#waitsFor}}<a href="/held/item?id={{waitsForQuery}}">{{waitsFor}}</a>{{/waitsFor}}{{^waitsFor}}—{{/waitsFor}}</td>
        <td>{{behindText}}</td><td>{{> heldActions}}</td></tr>{{/held}}
        </tbody></table>{{/hasHeld}}
        {{^hasHeld}}<p id="nothing-held">Nothing is held here.</p>{{/hasHeld}}
        <h2 id="byPeersTitle">Held by peers</h2>
        <p>What each peer said, at the last sync, it holds of this replica's transactions.</p>
        {{#byPeers}}<section aria-label="Held by {{peer}}"><h3>{{peer}}</h3><ul class="log">{{#items}}<li><b>{{id}}</b> <code>{{error}}</code> {{message}}{{#waitsFor}} (waits behind {{waitsFor}}){{/waitsFor}}</li>{{/items}}</ul></section>{{/byPeers}}
        {{^byPeers}}<p>No peer holds any of this replica's transactions.</p>{{/byPeers}}
        """

    static let heldItem = """
        <dl class="facts"><dt>Transaction</dt><dd id="held-id">{{id}}</dd><dt>Author</dt><dd>{{author}}</dd>
        <dt>From</dt><dd>{{source}}</dd><dt>Reason</dt><dd id="held-reason"><code>{{error}}</code> {{message}}</dd>
        <dt>Held since</dt><dd>{{heldAt}} ({{attempts}} tries)</dd>
        <dt>Waits behind</dt><dd>{{#waitsFor}}<a href="/held/item?id={{waitsForQuery}}">{{waitsFor}}</a>{{/waitsFor}}{{^waitsFor}}nothing{{/waitsFor}}</dd>
        <dt>Waiting behind it</dt><dd id="held-behind">{{#behind}}<a href="/held/item?id={{idQuery}}">{{id}}</a> {{/behind}}{{^behind}}nothing{{/behind}}</dd></dl>
        <h2>Changes it brings</h2>
        <table><thead><tr><th scope="col">Operation</th><th scope="col">Row</th><th scope="col">Scope</th></tr></thead><tbody>
        {{#changes}}<tr><td>{{op}}</td><td>{{#known}}<a href="/row?table={{table}}&amp;id={{idQuery}}">{{table}} {{id}}</a>{{/known}}{{^known}}{{table}} {{id}}{{/known}}</td><td>{{scope}}</td></tr>{{/changes}}
        </tbody></table>
        <p>{{> heldActions}}</p>
        <p><a href="/held">All held transactions</a></p>
        """
}
