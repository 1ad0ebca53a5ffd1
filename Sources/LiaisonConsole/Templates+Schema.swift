/// The schema page's template: tables as `liaison schema DB` prints them, who changed what, and
/// the three change forms (CSRF-protected POSTs). Every value is escaped (`{{x}}`): a table or
/// column may come from another agency's schema change.
extension Templates {
    static let schema = """
        {{#error}}<p class="error" role="alert" id="schema-error">{{error}}</p>{{/error}}
        <dl class="facts"><dt>Schema</dt><dd>{{name}}</dd><dt>Major version</dt><dd id="schema-major">{{major}}</dd>
        <dt>Hash</dt><dd><code id="schema-hash">{{hash}}</code></dd>
        <dt>May change the schema here</dt><dd id="schema-granted">{{site}}{{#granted}}, {{.}}{{/granted}} <small>(others with <code>liaison grant DB SITE --schema</code>)</small></dd></dl>
        <p><a href="#changeTitle">Change the schema</a> (add a column, a choice value or a table)</p>
        <section aria-labelledby="tablesTitle"><h2 id="tablesTitle">Tables</h2>
        {{#tables}}<section aria-labelledby="table-{{name}}" id="schema-{{name}}"><h3 id="table-{{name}}">{{name}}</h3>
        <p>policy {{policy}}{{#naturalKey}} · natural key ({{naturalKey}}){{/naturalKey}}{{#parent}} · parent column {{parent}}{{/parent}}</p>
        <table><thead><tr><th scope="col">Column</th><th scope="col">Type</th><th scope="col">Choices</th><th scope="col">Required</th><th scope="col">Default</th></tr></thead><tbody>
        {{#columns}}<tr id="column-{{name}}"><td>{{name}}</td><td>{{type}}</td><td>{{choices}}</td><td>{{required}}</td><td>{{default}}</td></tr>{{/columns}}
        </tbody></table></section>{{/tables}}</section>
        <section aria-labelledby="changesTitle"><h2 id="changesTitle">Who changed what</h2>
        <table id="schema-changes"><thead><tr><th scope="col">Time</th><th scope="col">Agency</th><th scope="col">Author</th><th scope="col">Change</th><th scope="col">State</th></tr></thead><tbody>
        {{#changes}}<tr><td>{{time}}</td><td>{{site}}</td><td>{{author}}</td><td>{{kind}} {{target}}</td><td>{{#pending}}<span class="state behind">{{state}}</span>{{/pending}}{{^pending}}{{state}}{{/pending}}</td></tr>{{/changes}}
        </tbody></table>
        {{^changes}}<p>No schema changes yet: the schema is the one this replica was created with.</p>{{/changes}}</section>
        <section aria-labelledby="changeTitle"><h2 id="changeTitle">Change the schema</h2>
        <p>Each change is a transaction signed by this agency: it reaches every peer at the next sync, and applies
        where the peer lets this agency change its schema. Only additions: a nullable column or one with a default
        (no row is rewritten), a choice value, a table.</p>
        <datalist id="schema-tables">{{#tableNames}}<option value="{{.}}">{{/tableNames}}</datalist>
        <datalist id="schema-types">{{#typeNames}}<option value="{{.}}">{{/typeNames}}</datalist>
        <datalist id="schema-choice-columns">{{#choiceColumns}}<option value="{{.}}">{{/choiceColumns}}</datalist>
        <form method="post" action="/schema/column" class="edit" id="add-column"><input type="hidden" name="csrf" value="{{csrf}}">
        <fieldset><legend>Add a column</legend>
        <p><label for="col-table">Table</label> <input id="col-table" name="colTable" value="{{colTable}}" list="schema-tables" required></p>
        <p><label for="col-name">Column name</label> <input id="col-name" name="colName" value="{{colName}}" required></p>
        <p><label for="col-type">Type</label> <input id="col-type" name="colType" value="{{colType}}" list="schema-types" placeholder="text, integer, real, date or choice:A,B" required></p>
        <p><label for="col-default">Default (optional)</label> <input id="col-default" name="colDefault" value="{{colDefault}}"></p>
        <button type="submit">Add column</button></fieldset></form>
        <form method="post" action="/schema/choice" class="edit" id="add-choice"><input type="hidden" name="csrf" value="{{csrf}}">
        <fieldset><legend>Add a choice value</legend>
        <p><label for="choice-table">Table</label> <input id="choice-table" name="choiceTable" value="{{choiceTable}}" list="schema-tables" required></p>
        <p><label for="choice-column">Choice column</label> <input id="choice-column" name="choiceColumn" value="{{choiceColumn}}" list="schema-choice-columns" required></p>
        <p><label for="choice-value">New value</label> <input id="choice-value" name="choiceValue" value="{{choiceValue}}" required></p>
        <button type="submit">Add choice</button></fieldset></form>
        <form method="post" action="/schema/table" class="edit" id="add-table"><input type="hidden" name="csrf" value="{{csrf}}">
        <fieldset><legend>Add a table</legend>
        <p><label for="table-name">Table name</label> <input id="table-name" name="tableName" value="{{tableName}}" required></p>
        <p><label for="table-columns">Columns (NAME:TYPE, one a line; TYPE as above, or reference:TABLE)</label><br><textarea id="table-columns" name="tableColumns" rows="4" cols="40">{{tableColumns}}</textarea></p>
        <p><label for="table-policy">Policy</label> <select id="table-policy" name="tablePolicy">{{#policies}}<option{{#selected}} selected{{/selected}}>{{value}}</option>{{/policies}}</select></p>
        <p><label for="table-parent">Parent table (optional: adds a required PARENT_id column; new rows take its scope)</label> <input id="table-parent" name="tableParent" value="{{tableParent}}" list="schema-tables"></p>
        <button type="submit">Add table</button></fieldset></form></section>
        """
}
