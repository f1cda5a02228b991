-- Code-action harness for tests/clients/test_actions.py (Neovim 0.7 and 0.11).
--
-- The test writes an init.lua made of the README's configuration for this Neovim, verbatim,
-- followed by `dofile()` of this file, and opens geometry.py. This drives Neovim's own
-- code-action machinery: `vim.lsp.buf.code_action()` asks the server (with the diagnostics on
-- the cursor's line in the context), hands the menu to `vim.ui.select`, and, once an item is
-- chosen, resolves it (`codeAction/resolve`) and applies its edit. Headless Neovim has no one to
-- pick from the menu, so `vim.ui.select` is replaced by a stand-in for the user: it records
-- the menu as the user would see it and picks the item the step asks for. Everything is
-- written as JSON to $CLIENT_TEST_OUT; it judges nothing: the pytest side asserts.

local spec = vim.fn.json_decode(table.concat(vim.fn.readfile(os.getenv('CLIENT_TEST_SPEC')), '\n'))
local out_path = os.getenv('CLIENT_TEST_OUT')
local uv = vim.uv or vim.loop

local function now_ms()
  return uv.hrtime() / 1e6
end

local started = now_ms()
local v = vim.version()
local R = {
  nvim = string.format('%d.%d.%d', v.major, v.minor, v.patch),
  lsp_log = vim.lsp.get_log_path(),
  steps = {},
  menus = {},
  shown = {}, -- window/showMessage, as the server sent it
  notified = {}, -- vim.notify, what Neovim itself told the user
}

local function at()
  return math.floor(now_ms() - started)
end

local function step(name)
  table.insert(R.steps, { name = name, at_ms = at() })
end

local original_show = vim.lsp.handlers['window/showMessage']
vim.lsp.handlers['window/showMessage'] = function(err, result, ctx, config)
  if type(result) == 'table' then
    table.insert(R.shown, { type = result.type, message = result.message, at_ms = at() })
  end
  if original_show then
    return original_show(err, result, ctx, config)
  end
end

local original_notify = vim.notify
vim.notify = function(msg, level, opts)
  table.insert(R.notified, { message = tostring(msg), level = level, at_ms = at() })
  return original_notify(msg, level, opts)
end

-- The user in front of the code-action menu: `pick(titles, actions)` returns the index to
-- choose, or nil to close the menu without choosing.
local pick = nil
local original_select = vim.ui.select
vim.ui.select = function(items, opts, on_choice)
  if not (opts and opts.kind == 'codeaction') then
    return original_select(items, opts, on_choice)
  end
  local menu = { prompt = opts.prompt, titles = {}, actions = {}, at_ms = at() }
  local actions = {}
  for i, item in ipairs(items) do
    -- 0.11: { action = ..., ctx = ... }; 0.7: { client_id, action }
    local a = item.action or item[2]
    actions[i] = a
    if item.ctx and item.ctx.params and menu.range == nil then
      menu.range = item.ctx.params.range -- what the editor asked about (0.11 keeps it)
      menu.context_diagnostics = #((item.ctx.params.context or {}).diagnostics or {})
    end
    menu.titles[i] = opts.format_item and opts.format_item(item) or a.title
    menu.actions[i] = {
      title = a.title,
      kind = a.kind,
      has_edit = a.edit ~= nil,
      has_data = a.data ~= nil,
      command = type(a.command) == 'table' and a.command.command or a.command,
      diagnostics = type(a.diagnostics) == 'table' and #a.diagnostics or 0,
    }
  end
  local choice = pick and pick(menu.titles, actions) or nil
  menu.chosen = choice and menu.titles[choice] or vim.NIL
  table.insert(R.menus, menu)
  on_choice(choice and items[choice] or nil, choice)
end

local function quill_client(buf)
  local clients
  if vim.lsp.get_clients then
    clients = vim.lsp.get_clients({ bufnr = buf, name = 'quill' })
  else
    clients = vim.lsp.buf_get_clients(buf)
  end
  for _, c in pairs(clients) do
    if c.name == 'quill' then
      return c
    end
  end
  return nil
end

local function buffer_text(buf)
  local text = table.concat(vim.api.nvim_buf_get_lines(buf, 0, -1, false), '\n')
  if vim.bo[buf].eol then
    text = text .. '\n'
  end
  return text
end

local function line_of(buf, n)
  return vim.api.nvim_buf_get_lines(buf, n, n + 1, false)[1]
end

-- Ask for code actions at (line, col) with the editor's own command and let `chooser` pick.
-- Returns the menu the user saw (nil if none came within 15 s).
local function code_action(line, col, chooser)
  vim.api.nvim_win_set_cursor(0, { line + 1, col })
  local menus, notes = #R.menus, #R.notified
  pick = chooser
  vim.lsp.buf.code_action()
  vim.wait(15000, function()
    return #R.menus > menus or #R.notified > notes
  end, 20)
  pick = nil
  return R.menus[menus + 1]
end

local function index_of(titles, wanted)
  for i, title in ipairs(titles) do
    if wanted(title, i) then
      return i
    end
  end
  return nil
end

local function quill_diagnostics(buf, lnum)
  local out = {}
  for _, d in ipairs(vim.diagnostic.get(buf, { lnum = lnum })) do
    if d.source == 'quill' then
      local lsp = d.user_data and d.user_data.lsp or {}
      table.insert(out, {
        message = d.message,
        code = d.code or lsp.code,
        col = d.col,
        end_col = d.end_col,
        has_fix = type(lsp.data) == 'table' and lsp.data.fix ~= nil,
      })
    end
  end
  return out
end

local function run()
  local buf = vim.api.nvim_get_current_buf()
  R.buffer = vim.api.nvim_buf_get_name(buf)
  R.filetype = vim.bo[buf].filetype

  local client, seen
  vim.wait(30000, function()
    client = quill_client(buf)
    seen = seen or client ~= nil
    return (client ~= nil and client.server_capabilities ~= nil) or (seen and client == nil)
  end, 50)
  step('initialized')
  if client == nil or client.server_capabilities == nil then
    R.error = 'no initialized quill client for ' .. R.buffer
    return
  end
  R.client = {
    id = client.id,
    name = client.name,
    offset_encoding = client.offset_encoding,
    root_dir = client.config.root_dir,
    pid = client.rpc and client.rpc.pid or nil,
    code_action_provider = client.server_capabilities.codeActionProvider,
    diagnostic_provider = client.server_capabilities.diagnosticProvider ~= nil,
  }
  R.original = buffer_text(buf)

  -- 1. The menu at a cursor inside the function, on a name and in the indentation: look,
  -- choose nothing.
  R.list = { menu = code_action(spec.action_line, spec.action_character, nil) }
  R.list_indent = { menu = code_action(spec.action_line, spec.action_indent_character, nil) }
  step('list')

  -- 2. The static quick fix: the diagnostic as Neovim holds it (pulled by 0.11, pushed to
  -- 0.7), then the menu on that line (code_action() puts the line's diagnostics in the
  -- context) and the quick fix chosen.
  R.fix = {}
  vim.wait(15000, function()
    return #quill_diagnostics(buf, spec.fix_line) > 0
  end, 50)
  R.fix.diagnostics = quill_diagnostics(buf, spec.fix_line)
  R.fix.all_diagnostics = #vim.diagnostic.get(buf)
  step('diagnostics')
  R.fix.before = buffer_text(buf)
  local fix_col = spec.fix_before:find('radius', 1, true) - 1
  R.fix.menu = code_action(spec.fix_line, fix_col, function(_, actions)
    return index_of(actions, function(_, i)
      return actions[i].kind == 'quickfix'
    end)
  end)
  vim.wait(5000, function()
    return line_of(buf, spec.fix_line) ~= spec.fix_before
  end, 20)
  R.fix.line = line_of(buf, spec.fix_line)
  R.fix.after = buffer_text(buf)
  step('quick fix')

  -- 3. "Add docstring": chosen from the menu; Neovim resolves it (the model writes the edit)
  -- and applies the edit, or the server says why not.
  R.docstring = { title = 'Quill: Add docstring to function ' .. spec.action_function }
  R.docstring.before = buffer_text(buf)
  local shown = #R.shown
  R.docstring.menu = code_action(spec.action_line, spec.action_indent_character, function(titles)
    return index_of(titles, function(title)
      return title == R.docstring.title
    end)
  end)
  local t = now_ms()
  local chose = R.docstring.menu and R.docstring.menu.chosen ~= vim.NIL
  R.docstring.outcome = 'timeout'
  while chose and now_ms() - t < 75000 do
    if buffer_text(buf) ~= R.docstring.before then
      R.docstring.outcome = 'changed'
      break
    end
    if #R.shown > shown then
      R.docstring.outcome = 'message'
      break
    end
    vim.wait(100)
  end
  vim.wait(300) -- anything that comes right behind
  R.docstring.ms = math.floor(now_ms() - t)
  R.docstring.after = buffer_text(buf)
  R.docstring.shown = { unpack(R.shown, shown + 1) }
  -- Save, as the user would, so the pytest side can parse the file on disk.
  vim.cmd('silent write')
  R.docstring.saved = vim.fn.filereadable(R.buffer) == 1 and not vim.bo[buf].modified
  step('docstring')
end

vim.api.nvim_create_autocmd('VimEnter', {
  once = true,
  callback = function()
    vim.schedule(function()
      local ok, err = xpcall(run, debug.traceback)
      if not ok then
        R.error = err
      end
      R.messages = vim.fn.execute('messages')
      R.seconds = math.floor(now_ms() - started) / 1000
      vim.fn.writefile({ vim.fn.json_encode(R) }, out_path)
      vim.cmd('qa!')
    end)
  end,
})
