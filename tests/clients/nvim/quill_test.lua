-- Test harness for tests/clients/test_neovim.py (Neovim 0.7 and 0.11).
--
-- The test writes an init.lua made of the README's configuration for this Neovim, verbatim,
-- followed by `dofile()` of this file. Once Neovim has opened main.py, this asks the `quill`
-- client that the configuration started for: definition, workspace symbols and an invoked
-- completion; it writes every answer as JSON to $CLIENT_TEST_OUT and quits with `:qa!` as a
-- user would. It judges nothing: the pytest side asserts on the JSON.

local spec = vim.fn.json_decode(table.concat(vim.fn.readfile(os.getenv('CLIENT_TEST_SPEC')), '\n'))
local out_path = os.getenv('CLIENT_TEST_OUT')
local has_011 = vim.fn.has('nvim-0.11') == 1
local uv = vim.uv or vim.loop

local function now_ms()
  return uv.hrtime() / 1e6
end

local started = now_ms()
local v = vim.version()
local R = {
  nvim = string.format('%d.%d.%d', v.major, v.minor, v.patch),
  lsp_log = vim.lsp.get_log_path(),
  progress = {},
  steps = {},
}

local function step(name)
  table.insert(R.steps, { name = name, at_ms = math.floor(now_ms() - started) })
end

-- Watch work-done progress ($/progress) without changing what the editor does with it.
local original_progress = vim.lsp.handlers['$/progress']
vim.lsp.handlers['$/progress'] = function(err, result, ctx, config)
  if result and type(result.value) == 'table' then
    table.insert(R.progress, {
      kind = result.value.kind,
      title = result.value.title,
      message = result.value.message,
      at_ms = math.floor(now_ms() - started),
    })
  end
  if original_progress then
    return original_progress(err, result, ctx, config)
  end
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

local function progress_ended()
  for _, p in ipairs(R.progress) do
    if p.kind == 'end' then
      return true
    end
  end
  return false
end

local function is_quill_item(item)
  if type(item) ~= 'table' or item.detail ~= spec.completion_detail then
    return false
  end
  local text = (type(item.textEdit) == 'table' and item.textEdit.newText) or item.insertText
  return type(text) == 'string' and text:match('%S') ~= nil
end

local function run()
  local buf = vim.api.nvim_get_current_buf()
  R.buffer = vim.api.nvim_buf_get_name(buf)
  R.filetype = vim.bo[buf].filetype

  -- The client the README's configuration starts for a Python buffer, once initialized.
  local client, seen
  vim.wait(30000, function()
    client = quill_client(buf)
    seen = seen or client ~= nil
    -- initialized, or started and gone again (the server quit: no use waiting)
    return (client ~= nil and client.server_capabilities ~= nil) or (seen and client == nil)
  end, 50)
  step('initialized')
  if client == nil then
    R.error = (seen and 'the quill client started and quit again (see the server log) for '
      or 'the README configuration attached no client named quill to ') .. R.buffer
    return
  end
  R.client = {
    id = client.id,
    name = client.name,
    offset_encoding = client.offset_encoding,
    root_dir = client.config.root_dir,
    workspace_folders = client.workspace_folders,
    cmd = client.config.cmd,
    pid = client.rpc and client.rpc.pid or nil,
  }
  if client.server_capabilities == nil then
    R.error = 'the quill client did not finish initialize within 30 s'
    return
  end

  local function request(method, params, timeout_ms)
    local t = now_ms()
    local resp, err
    if has_011 then
      resp, err = client:request_sync(method, params, timeout_ms, buf)
    else
      resp, err = client.request_sync(method, params, timeout_ms, buf)
    end
    local entry = { method = method, params = params }
    if resp == nil then
      entry.error = { message = tostring(err or 'no response') }
    elseif resp.err then
      entry.error = { code = resp.err.code, message = resp.err.message }
    else
      entry.result = resp.result
      if entry.result == nil then
        entry.result = vim.NIL
      end
    end
    entry.ms = math.floor(now_ms() - t)
    return entry
  end

  -- Indexing: the server reports $/progress end, or workspace/symbol starts answering.
  local t = now_ms()
  local polls = 0
  R.index = { ready_by = 'timeout' }
  while now_ms() - t < 40000 do
    if progress_ended() then
      R.index.ready_by = 'progress'
      break
    end
    local poll = request('workspace/symbol', { query = spec.symbol_query }, 5000)
    polls = polls + 1
    if type(poll.result) == 'table' and #poll.result > 0 then
      R.index.ready_by = 'workspace/symbol'
      break
    end
    vim.wait(250)
  end
  R.index.ms = math.floor(now_ms() - t)
  R.index.symbol_polls = polls
  step('indexed')

  -- 1. Go to definition from the name after the non-ASCII text, as the editor encodes it.
  vim.api.nvim_win_set_cursor(0, { spec.call_line + 1, spec.cursor_utf8 })
  local params = vim.lsp.util.make_position_params(0, client.offset_encoding)
  R.definition = request('textDocument/definition', params, 10000)
  step('definition')

  -- 2. Workspace symbols.
  R.symbol = request('workspace/symbol', { query = spec.symbol_query }, 10000)
  step('workspace/symbol')

  -- 3. Invoked completion at the end of the indented empty line (ASCII: every encoding agrees).
  local line = vim.api.nvim_buf_get_lines(buf, spec.completion_line, spec.completion_line + 1, false)[1]
  local cparams = {
    textDocument = vim.lsp.util.make_text_document_params(buf),
    position = { line = spec.completion_line, character = #line },
    context = { triggerKind = 1 },
  }
  -- The embedded model's first answer after loading can take longer than the server waits
  -- for an invoked request, so ask again (as the editor would) within a time budget.
  R.completion = { attempts = {} }
  local t_completion = now_ms()
  while #R.completion.attempts < 12 and now_ms() - t_completion < 40000 do
    local attempt = request('textDocument/completion', cparams, 20000)
    table.insert(R.completion.attempts, attempt)
    local result = attempt.result
    local items = type(result) == 'table' and (result.items or result) or {}
    local found = false
    for _, item in ipairs(items) do
      found = found or is_quill_item(item)
    end
    if found then
      break
    end
    vim.wait(500)
  end
  step('completion')
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
      -- 4. Quit as a user would; the pytest side checks that the server does not outlive us.
      vim.cmd('qa!')
    end)
  end,
})
