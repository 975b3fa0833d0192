-- assay's language server in Neovim (0.10 or newer; nvim-lspconfig optional).
-- Put this file on your runtimepath (e.g. ~/.config/nvim/lua/assay.lua) and call
-- require("assay").setup({ cmd = { vim.fn.expand("~/.venvs/assay/bin/assay"), "lsp" } }).
local M = {}

local defaults = {
  cmd = { "assay", "lsp" },
  filetypes = { "python", "javascript", "javascriptreact", "typescript", "typescriptreact" },
  root_markers = { "pyproject.toml", "setup.py", "setup.cfg", "package.json", ".git" },
  -- The same keys as VS Code's assay.* settings (see ide_plugin/README.md).
  settings = {
    assay = {
      llm = { baseUrl = "", model = "" }, -- empty: ASSAY_LLM_BASE_URL, assay.toml, the embedded model
      service = { url = "", token = "", repo = "" },
      review = { base = "main" },
      tests = { behaviours = 3 },
    },
  },
}

local function exec(client, bufnr, command, argument)
  local params = { title = command, command = command, arguments = { argument } }
  if client.exec_cmd then -- Neovim 0.11
    client:exec_cmd(params, { bufnr = bufnr })
  else -- Neovim 0.10
    client.request("workspace/executeCommand", params, nil, bufnr)
  end
end

local function on_attach(client, bufnr)
  local uri = vim.uri_from_bufnr(bufnr)
  local function command(name, lsp_command, argument, desc)
    vim.api.nvim_buf_create_user_command(bufnr, name, function()
      exec(client, bufnr, lsp_command, argument())
    end, { desc = desc })
  end
  command("AssayTests", "assay.generateTests", function()
    local row, col = unpack(vim.api.nvim_win_get_cursor(0))
    return { uri = uri, position = { line = row - 1, character = col } }
  end, "assay: generate tests for the function, method or class under the cursor")
  command("AssayCoverage", "assay.raiseCoverage", function() return { uri = uri } end,
    "assay: raise the coverage of this file")
  command("AssayReview", "assay.reviewChanges", function() return { uri = uri } end,
    "assay: review the changes since the base branch")
  command("AssayClear", "assay.clearReview", function() return {} end, "assay: clear the review")
  command("AssayCancel", "assay.cancel", function() return {} end, "assay: cancel running work")
  -- Code lenses ("Generate tests" over every function, method and class).
  vim.api.nvim_create_autocmd({ "BufEnter", "InsertLeave", "BufWritePost" }, {
    buffer = bufnr,
    callback = function() vim.lsp.codelens.refresh({ bufnr = bufnr }) end,
  })
  vim.lsp.codelens.refresh({ bufnr = bufnr })
  vim.keymap.set("n", "<leader>at", vim.lsp.codelens.run, { buffer = bufnr, desc = "assay: run the code lens" })
end

function M.setup(opts)
  local config = vim.tbl_deep_extend("force", defaults, opts or {})
  config.init_options = config.init_options or config.settings.assay
  local user_attach = config.on_attach
  config.on_attach = function(client, bufnr)
    on_attach(client, bufnr)
    if user_attach then user_attach(client, bufnr) end
  end
  if vim.lsp.config then -- Neovim 0.11: the built-in configuration
    vim.lsp.config("assay", config)
    vim.lsp.enable("assay")
    return
  end
  -- Neovim 0.10: through nvim-lspconfig
  local configs = require("lspconfig.configs")
  if not configs.assay then
    local util = require("lspconfig.util")
    configs.assay = {
      default_config = {
        cmd = config.cmd,
        filetypes = config.filetypes,
        root_dir = util.root_pattern(unpack(config.root_markers)),
        settings = config.settings,
        init_options = config.init_options,
      },
    }
  end
  require("lspconfig").assay.setup({ on_attach = config.on_attach })
end

return M
